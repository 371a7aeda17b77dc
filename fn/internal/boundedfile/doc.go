// Package boundedfile reads input files the way every aggapi input is read: a regular
// file only (a device such as /dev/zero never ends, a FIFO blocks until someone writes),
// through a size limit, and for paths that come from a config, inside a root directory
// that neither ".." nor a symlink can leave (os.Root).
package boundedfile
