// Package childproc holds what the simulator's tools set on the server
// processes they start (processor replicas, the demo's processor): such a
// child dies with the process that started it, so that an interrupted run
// leaves none behind holding its ports and data.
package childproc
