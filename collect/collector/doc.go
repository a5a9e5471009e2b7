// Package collector runs one collection: it samples the node's IO state
// every tick into bounded memory, picks the processes worth a closer look,
// traces them briefly, and writes everything once, at the end, as a bundle.
// Errors never stop it: each is recorded in the manifest beside the data.
package collector
