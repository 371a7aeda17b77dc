package boundedfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"syscall"
)

// ErrOutsideRoot is returned when a path, or a symlink on it, leads outside the root.
var ErrOutsideRoot = errors.New("leads outside the working directory (through .. or a symlink)")

// TooLargeError is returned when a file holds more than the limit.
type TooLargeError struct{ Limit int64 }

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("is larger than the %d bytes accepted", e.Limit)
}

// NotRegularError is returned for anything that is not a regular file.
type NotRegularError struct{ Mode fs.FileMode }

func (e *NotRegularError) Error() string {
	return "is " + describe(e.Mode) + ", not a regular file"
}

func describe(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "not a plain file (" + m.Type().String() + ")"
}

// ReadInRoot reads name, a path relative to dir that must stay inside dir (symlinks
// are followed only while they stay inside), as Read does.
func ReadInRoot(dir, name string, limit int64) ([]byte, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	return ReadRoot(root, name, limit)
}

// ReadRoot reads name inside root as ReadInRoot does.
func ReadRoot(root *os.Root, name string, limit int64) ([]byte, error) {
	// Stat first, so a device or FIFO is never even opened.
	info, err := root.Stat(name)
	if err != nil {
		return nil, rootError(err)
	}
	if !info.Mode().IsRegular() {
		return nil, &NotRegularError{info.Mode()}
	}
	f, err := root.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, rootError(err)
	}
	defer f.Close()
	return readRegular(f, limit)
}

// rootError names an escape from the root; os.Root's own error for it is not exported.
func rootError(err error) error {
	var pe *fs.PathError
	if !errors.As(err, &pe) {
		return err
	}
	if strings.Contains(pe.Err.Error(), "path escapes") {
		return ErrOutsideRoot
	}
	return pe.Err
}

// Open opens path for reading after checking it is a regular file (symlinks followed).
// The file is opened non-blocking and checked again, so a FIFO swapped in between
// cannot block.
func Open(path string) (*os.File, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, &NotRegularError{info.Mode()}
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	if info, err = f.Stat(); err != nil || !info.Mode().IsRegular() {
		f.Close()
		if err == nil {
			err = &NotRegularError{info.Mode()}
		}
		return nil, err
	}
	return f, nil
}

// Read reads the regular file at path, at most limit bytes.
func Read(path string, limit int64) ([]byte, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readRegular(f, limit)
}

func readRegular(f *os.File, limit int64) ([]byte, error) {
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, &NotRegularError{info.Mode()}
	}
	if info.Size() > limit {
		return nil, &TooLargeError{limit}
	}
	// The size can change under us: the limit holds whatever the file does.
	return ReadAtMost(f, limit)
}

// ReadAtMost reads r to its end, failing once more than limit bytes come.
func ReadAtMost(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, &TooLargeError{limit}
	}
	return b, nil
}
