// Package procstat reads what Linux's /proc says about a process, the CPU
// time it has used and its resident memory, and samples named groups of
// processes over a run (Watch): the simulator's report shows each group's
// CPU and memory second by second, and the cluster rig how many cores each
// kind of server used.
//
// Everything here reads /proc and so works on Linux only; elsewhere every
// reading fails and a run simply has no resource samples.
package procstat
