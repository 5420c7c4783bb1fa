package catalog

// ReservationSpec describes a reservation offer.
type ReservationSpec struct{}

// ReservationPolicy is the catalog policy of reservation offers.
type ReservationPolicy struct{}
