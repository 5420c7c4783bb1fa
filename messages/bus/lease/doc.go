// Package lease decides which processor replica works which command
// partition: each partition is leased to one replica at a time through a
// NATS KV bucket whose entries expire unless renewed, and every lease
// carries a fence token that the commit script checks (state.Commit.Fence).
//
// # Bucket
//
// CSP_LEASES (Config.Bucket) holds two kinds of keys, both expiring TTL
// after their last write (the bucket's TTL, History 1):
//
//	partition.<p>         {replica, instance, fence, acquired_at} of the holder
//	member.<replicaID>    {replica, instance, started_at}: a live keeper
//
// Member keys are written with Put: they are counted, not owned, so a
// restarted replica simply writes over its predecessor's. A keeper
// acquires a partition with Create (it fails while someone holds
// it), renews it every TTL/3 with Update on the revision it last wrote
// (compare-and-set: it fails once anyone else wrote the key) and gives it up
// with a Delete on that revision. The fence is the revision Create
// returned. Revisions are the bucket stream's sequence numbers, strictly
// increasing over the whole bucket, and the bucket is created with a first
// sequence of 1000 × the Unix milliseconds of its creation, so a bucket
// deleted and created again still issues higher fences than the old one
// ever did (it would have had to write a million entries a second), and
// customers fenced by the old bucket are not locked out. Fences stay below
// 2^53 (state.MaxFence) until the 23rd century. The value's fence is 0 in
// the entry Create wrote (that entry's own revision is the fence) and the
// fence in every renewal.
//
// The bucket is created with subject delete markers (LimitMarkerTTL), so
// an entry that expires leaves a marker the other keepers' watchers see at
// once: a crashed replica's partitions are taken over about TTL after its
// last renewal, not at the next periodic look.
//
// # Sharing
//
// Every keeper counts the live member keys and aims at its fair share
// ceil(partitions / members). Below it, it acquires free partitions in
// rendezvous order: highest hash of (replica ID, partition) first, so
// replicas do not all race for the same ones and a replica with a stable
// REPLICA_ID tends to get the same partitions back. Above it (a member
// joined), it releases its surplus, lowest hash first: Owner.Release first,
// then the Delete, so the next owner starts as soon as the work has
// stopped. Shutdown releases everything the same way, after deleting its
// member key so the others raise their shares. Watch events (a key
// deleted or expired, a new member) make the keepers act at once; a
// periodic look every TTL/3 catches anything a watcher missed.
//
// # Losing a lease, and the clocks
//
// A keeper considers a lease valid until the start of its last successful
// write (Create or Update) + TTL − SafetyMargin, measured on its own
// monotonic clock. The server stamps the entry no earlier than that start
// and expires it TTL after the stamp, so as long as the server's clock runs
// at the rate of the keeper's and does not jump forward by more than the
// margin between the stamp and the expiry, the keeper's deadline comes
// before the entry can vanish and anyone else can Create it. On a
// clustered bucket the stamp is the stream leader's and each server
// expires by its own clock, so the margin must also cover the skew between
// the JetStream servers' clocks (NTP keeps it to milliseconds; the default
// margin is TTL/6, 500 ms). When the deadline passes without a renewal, or
// a renewal fails because the revision moved (someone else holds the key),
// the keeper calls Owner.Release at once (a renewal whose compare-and-set
// fails only because the reply of its previous write was lost finds its
// own record, same instance and fence, and carries on instead); it must
// return before the entry
// expires, which for the default TTL leaves SafetyMargin for the
// partition's in-flight commands to finish or be cut off. The fence makes a
// late straggler harmless: once the next owner commits for a customer,
// the old owner's commits for it are refused.
//
// # Restarts
//
// Each process has an instance ID of its own, and a lease entry names the
// replica and the instance. A restarted process does not take over leases
// its replica ID still holds: it cannot tell a dead predecessor from a
// live one (a frozen VM, a duplicated pod, a process that lost its NATS
// connection but still works its partitions), and taking over a partition
// a live process works would run two consumers on it at once, which the
// fence does not fully cover (both may hold commands of one customer in
// flight, so per-customer order could break before the fence refuses the
// older one). It waits for the TTL like any other replica. What a stable
// REPLICA_ID buys is the same rendezvous order: after the TTL the
// restarted replica prefers the partitions it had.
package lease
