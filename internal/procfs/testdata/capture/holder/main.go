// Command holder opens files with the flags the parsers must read back
// from /proc/PID/fdinfo, writes a known amount through each, and waits.
package main

import (
	"fmt"
	"os"
	"syscall"
	"time"
)

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func main() {
	// A comm with spaces and parentheses: /proc/PID/stat field 2 must be
	// read to the last ')'.
	must(os.WriteFile("/proc/self/comm", []byte("log (x) y"), 0))
	line := []byte("203.0.113.9 - - GET /index.html HTTP/1.1 200 612 0.0010 -\n") // 58 bytes
	log, err := syscall.Open("/mer ged/var/log/access.log", syscall.O_WRONLY|syscall.O_CREAT|syscall.O_APPEND|syscall.O_SYNC, 0o644)
	must(err)
	for range 10 {
		_, err := syscall.Write(log, line)
		must(err)
	}
	d, err := syscall.Open("/disk/direct.dat", syscall.O_RDWR|syscall.O_CREAT|syscall.O_DIRECT, 0o644)
	must(err)
	buf, err := syscall.Mmap(-1, 0, 65536, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	must(err)
	for i := range buf {
		buf[i] = 'x'
	}
	for range 4 {
		_, err := syscall.Write(d, buf)
		must(err)
	}
	var p [2]int
	must(syscall.Pipe2(p[:], syscall.O_CLOEXEC))
	ro, err := syscall.Open("/disk/direct.dat", syscall.O_RDONLY, 0)
	must(err)
	_, err = syscall.Read(ro, buf[:4096])
	must(err)
	fmt.Println("ready", log, d, p[0], p[1], ro)
	time.Sleep(time.Hour)
}
