package store

// SetBeforeGroup sets a function run before each group of records is
// written, with the group's size.
func SetBeforeGroup(d *DB, f func(n int)) { d.group.beforeGroup = f }

// Queued is how many PutRecord calls wait for a group.
func Queued(d *DB) int {
	d.group.mu.Lock()
	defer d.group.mu.Unlock()
	return len(d.group.queue)
}
