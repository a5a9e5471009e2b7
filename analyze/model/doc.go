// Package model turns a bundle's ticks into what the familiar tools show:
// per-device rates computed exactly as sysstat's iostat -x does, per-process
// rates as iotop -aoP and pidstat -d do, and the attribution of processes
// to cgroups, containers and pods. Rules and views read the model; nothing
// here prints.
package model
