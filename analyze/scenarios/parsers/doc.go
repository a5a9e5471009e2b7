// Package parsers checks the analyzer's parsers and arithmetic on
// captures taken live on this machine by the real collector: every
// kernel file of every tick and a real strace parse; iostat's and
// iotop's figures agree with sysstat's iostat and iotop-c over the same
// seconds; the block trace agrees with /proc/diskstats. They skip under
// -short.
//
// They live apart from analyze/model so that the model's unit tests
// link no collector code.
package parsers
