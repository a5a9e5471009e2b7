// Package advice holds what the rules need to advise on this node rather
// than find: which levers its facts allow (an IO priority, a cgroup
// limit, buffering, a volume of its own) and why others are ruled out,
// the words of a remedy for a file's kind, the cost of a tmpfs, and the
// forecasts (dirty memory, a filesystem filling). The rules find; this
// says what can be done about it.
package advice
