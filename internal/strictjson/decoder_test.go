package strictjson

import (
	"runtime"
	"testing"
)

// A done function called twice gives the pooled decoder back once: the
// next two Decoder calls never share one decoder, each resetting the
// other's input. (No caller calls it twice; this is hardening.)
func TestDecoderGivenBackTwice(t *testing.T) {
	runtime.LockOSThread() // one P: Put and Get see the same local pool
	defer runtime.UnlockOSThread()
	_, done := Decoder([]byte(`{}`))
	done()
	done()
	d1, done1 := Decoder([]byte(`{"a":1}`))
	defer done1()
	d2, done2 := Decoder([]byte(`[2]`))
	defer done2()
	if d1 == d2 {
		t.Fatal("two live Decoder calls were given the same decoder (done called twice put it in the pool twice)")
	}
}
