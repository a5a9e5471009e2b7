// Command mtw: two OS threads, each appending 100 records of 120 bytes to
// its own file with fdatasync after every 10th; then exits 0.
package main

import (
	"os"
	"runtime"
	"sync"
	"syscall"
)

func main() {
	var wg sync.WaitGroup
	for _, name := range []string{"wal-a.log", "wal-b.log"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
			fd, err := syscall.Open(name, syscall.O_WRONLY|syscall.O_CREAT|syscall.O_APPEND|syscall.O_TRUNC, 0o644)
			if err != nil {
				os.Exit(1)
			}
			rec := make([]byte, 120)
			for i := range rec {
				rec[i] = 'r'
			}
			rec[119] = '\n'
			for i := 1; i <= 100; i++ {
				syscall.Write(fd, rec)
				if i%10 == 0 {
					syscall.Fdatasync(fd)
				}
			}
			syscall.Close(fd)
		}()
	}
	wg.Wait()
}
