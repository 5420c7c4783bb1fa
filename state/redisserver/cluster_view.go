package redisserver

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// view is one node's CLUSTER NODES: what it believes about every node.
type view []viewEntry

// viewEntry is one line of CLUSTER NODES.
type viewEntry struct {
	id, addr string
	flags    []string
	master   string // the master's ID for a replica, "-" for a master
	link     string // connected or disconnected
	slots    []slotRange
}

type slotRange struct{ first, last int }

func (e viewEntry) has(flag string) bool { return slices.Contains(e.flags, flag) }

func (e viewEntry) serves(slot int) bool {
	for _, r := range e.slots {
		if r.first <= slot && slot <= r.last {
			return true
		}
	}
	return false
}

// self is the entry of the node that answered.
func (v view) self() *viewEntry {
	for i := range v {
		if v[i].has("myself") {
			return &v[i]
		}
	}
	return nil
}

// owners is the IDs of the nodes that serve slots, in slot order.
func (v view) owners() []string {
	type owner struct {
		first int
		id    string
	}
	var os []owner
	for _, e := range v {
		if len(e.slots) > 0 {
			os = append(os, owner{e.slots[0].first, e.id})
		}
	}
	slices.SortFunc(os, func(a, b owner) int { return a.first - b.first })
	ids := make([]string, len(os))
	for i, o := range os {
		ids[i] = o.id
	}
	return ids
}

// slotMap renders which node serves which slots, comparable between views.
func (v view) slotMap() string {
	var parts []string
	for _, e := range v {
		for _, r := range e.slots {
			parts = append(parts, fmt.Sprintf("%05d-%05d=%s", r.first, r.last, e.id))
		}
	}
	slices.Sort(parts)
	return strings.Join(parts, " ")
}

func nodeView(ctx context.Context, n *ClusterNode) (view, error) {
	reply, err := n.control().roundTrip(ctx, "CLUSTER", "NODES")
	if err != nil {
		return nil, err
	}
	if strings.HasPrefix(reply, "-") {
		return nil, fmt.Errorf("CLUSTER NODES on %s: %s", n.Addr(), reply)
	}
	return parseView(reply)
}

// parseView parses CLUSTER NODES: "<id> <ip:port@cport[,hostname]> <flags>
// <master> <ping-sent> <pong-recv> <config-epoch> <link-state> <slot>...".
// Slots being migrated ("[slot->-id]") are not counted as served.
func parseView(text string) (view, error) {
	var v view
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		f := strings.Fields(line)
		if len(f) < 8 {
			return nil, fmt.Errorf("CLUSTER NODES line %q", line)
		}
		addr, _, _ := strings.Cut(f[1], "@")
		e := viewEntry{id: f[0], addr: addr, flags: strings.Split(f[2], ","), master: f[3], link: f[7]}
		for _, s := range f[8:] {
			if strings.HasPrefix(s, "[") {
				continue
			}
			a, b, isRange := strings.Cut(s, "-")
			first, err := strconv.Atoi(a)
			if err != nil {
				return nil, fmt.Errorf("CLUSTER NODES slot %q", s)
			}
			last := first
			if isRange {
				if last, err = strconv.Atoi(b); err != nil {
					return nil, fmt.Errorf("CLUSTER NODES slot %q", s)
				}
			}
			e.slots = append(e.slots, slotRange{first, last})
		}
		v = append(v, e)
	}
	return v, nil
}
