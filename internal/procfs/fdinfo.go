package procfs

import (
	"strconv"
)

// FDInfo is /proc/PID/fdinfo/N (Documentation/filesystems/proc.rst 3.8).
type FDInfo struct {
	Pos int64
	// Flags is the octal O_* mask the file is open with (O_CLOEXEC
	// included); see the Flag helpers.
	Flags  OpenFlags
	MntID  int
	Ino    uint64
	HasMnt bool
}

// ParseFDInfo parses the first lines of an fdinfo file; the extra lines of
// eventfd, inotify, epoll and the like are ignored.
func ParseFDInfo(b []byte) (FDInfo, error) {
	var fi FDInfo
	seenFlags := false
	err := eachLine(b, func(l []byte, n int) error {
		key, val, ok := cutColon(l)
		if !ok {
			return nil // inotify and similar lines have other shapes
		}
		var err error
		switch key {
		case "pos":
			fi.Pos, err = strconv.ParseInt(val, 10, 64)
		case "flags":
			var f uint64
			f, err = strconv.ParseUint(val, 8, 64)
			fi.Flags = OpenFlags(f)
			seenFlags = true
		case "mnt_id":
			fi.MntID, err = strconv.Atoi(val)
			fi.HasMnt = err == nil
		case "ino":
			fi.Ino, err = strconv.ParseUint(val, 10, 64)
		}
		if err != nil {
			return lineError("fdinfo", n, "%s: %v", key, err)
		}
		return nil
	})
	if err == nil && !seenFlags {
		err = lineError("fdinfo", 1, "no flags line")
	}
	return fi, err
}

func cutColon(l []byte) (string, string, bool) {
	for i, c := range l {
		if c == ':' {
			return string(trimSpace(l[:i])), string(trimSpace(l[i+1:])), true
		}
	}
	return "", "", false
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// OpenFlags is an fdinfo flags mask. The values differ between
// architectures (REFERENCE-IO.md 4.1): O_DIRECT is 040000 on x86_64 and
// 0200000 on arm64; the sync and append bits are the same everywhere.
type OpenFlags uint64

// Flag values shared by x86_64 and arm64 (asm-generic/fcntl.h).
const (
	flagAccMode = 03
	flagAppend  = 02000
	flagDsync   = 010000
	flagSync    = 04000000 // __O_SYNC; O_SYNC = __O_SYNC|O_DSYNC
)

// Sync reports O_SYNC: both __O_SYNC and O_DSYNC set.
func (f OpenFlags) Sync() bool { return f&(flagSync|flagDsync) == flagSync|flagDsync }

// DSync reports O_DSYNC alone (data integrity on every write, not O_SYNC).
func (f OpenFlags) DSync() bool { return f&flagDsync != 0 && !f.Sync() }

// Append reports O_APPEND.
func (f OpenFlags) Append() bool { return f&flagAppend != 0 }

// Writable reports O_WRONLY or O_RDWR.
func (f OpenFlags) Writable() bool { return f&flagAccMode == 1 || f&flagAccMode == 2 }

// Direct reports O_DIRECT for the given architecture ("x86_64", "aarch64").
func (f OpenFlags) Direct(arch string) bool {
	switch arch {
	case "aarch64", "arm64":
		return f&0200000 != 0
	}
	return f&040000 != 0
}

// Names lists the flags of interest that are set, e.g. "O_WRONLY|O_APPEND|O_SYNC".
func (f OpenFlags) Names(arch string) string {
	s := [...]string{"O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE"}[f&flagAccMode]
	if f.Append() {
		s += "|O_APPEND"
	}
	if f.Sync() {
		s += "|O_SYNC"
	} else if f.DSync() {
		s += "|O_DSYNC"
	}
	if f.Direct(arch) {
		s += "|O_DIRECT"
	}
	return s
}
