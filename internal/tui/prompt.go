package tui

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// MaxPromptLine caps one line of accessible input.
const MaxPromptLine = 64 << 10

// readLine reads one line (without its newline) from the accessible input.
// It returns errInputEnded when the input is exhausted before a line ends
// with data, and refuses lines longer than MaxPromptLine.
func (l *lineReader) readLine() (string, error) {
	var b strings.Builder
	for {
		c, err := l.r.ReadByte()
		if err != nil {
			if b.Len() > 0 {
				return b.String(), nil
			}
			return "", errInputEnded
		}
		if c == '\n' {
			return strings.TrimSuffix(b.String(), "\r"), nil
		}
		if b.Len() >= MaxPromptLine {
			return "", fmt.Errorf("input line longer than %d bytes", MaxPromptLine)
		}
		b.WriteByte(c)
	}
}

// choose asks for one of options by number. An empty or unknown answer never
// picks anything: it says what is expected and asks again.
func choose(in *lineReader, out io.Writer, title string, options []string) (int, error) {
	fmt.Fprintln(out, title)
	for i, o := range options {
		fmt.Fprintf(out, "%d. %s\n", i+1, o)
	}
	for {
		fmt.Fprintf(out, "Type a number from 1 to %d and press enter: ", len(options))
		line, err := in.readLine()
		if err != nil {
			fmt.Fprintln(out)
			return 0, err
		}
		n, err := strconv.Atoi(strings.TrimSpace(line))
		if err == nil && n >= 1 && n <= len(options) {
			fmt.Fprintln(out)
			return n - 1, nil
		}
		if strings.TrimSpace(line) == "" {
			fmt.Fprintln(out, "\nNothing chosen.")
		} else {
			fmt.Fprintf(out, "\n%q is not one of the numbers.\n", line)
		}
	}
}

// ask prints a prompt and reads one line; empty means "keep/skip".
func ask(in *lineReader, out io.Writer, prompt string) (string, error) {
	fmt.Fprintf(out, "%s ", prompt)
	line, err := in.readLine()
	fmt.Fprintln(out)
	return strings.TrimSpace(line), err
}
