// Package window holds the facts about a capture's analysis window that
// rules, the verdict and the report all read: its processes and their IO,
// iostat -x of each device, the targets and where their files land, who
// holds each device's time, the applications, and the thresholds.
package window
