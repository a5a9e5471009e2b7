// Package replay rebuilds, from a bundle's model, the views an engineer
// would have taken on the node: iotop -aoP, iostat -dxk, pidstat -d, ps,
// /proc/PID/io, a strace summary, findmnt, and a per-tick timeline. Each
// view returns blocks of tables; the caller renders them as text or JSON.
package replay
