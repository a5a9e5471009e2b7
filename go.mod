module github.com/iorca/iorca

go 1.26.8

require (
	github.com/klauspost/compress v1.20.4
	github.com/spf13/pflag v1.1.0
)

require github.com/yuin/goldmark v1.8.7

require github.com/sergi/go-diff v1.4.0
