// Package safefile opens the files iorca reads and writes the files it
// writes without the surprises of a path that is not a plain file: a FIFO
// that would block a read forever, a device node a rename would replace,
// a symbolic link planted in a shared directory to redirect a write.
package safefile
