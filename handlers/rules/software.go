package rules

// SoftwareState is what a software subscription holds beyond the common fields.
type SoftwareState struct{}

// ActivityEntry is one entry of the software activity log.
type ActivityEntry struct{}
