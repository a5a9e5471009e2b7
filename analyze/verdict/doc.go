// Package verdict turns the rules' findings into a diagnosis: one finding
// per application, each finding's confidence graded on its evidence, the
// findings ranked, the finding the verdict rests on chosen by its role,
// the culprit named by who holds the device that hurts, its consequences
// linked, the onset found, and the verdict's text.
package verdict
