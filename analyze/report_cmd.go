package main

import (
	"fmt"
	"io"
)

func cmdReport(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "iorca report: not built yet")
	return exitFailure
}

func cmdRegress(args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "iorca regress: not built yet")
	return exitFailure
}
