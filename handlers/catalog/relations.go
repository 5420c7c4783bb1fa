package catalog

// validateRelations checks what offers say about each other, once every
// offer is known: upgrade paths (UPG-1, UPG-2), trials (TRI-1) and add-ons
// (ORD-7..ORD-9). index maps an offer ID to its position.
func (c *Catalog) validateRelations(ps *problemList, index map[string]int) {
	c.validateUpgrades(ps, index)
	c.validateTrials(ps, index)
	c.validateAddons(ps, index)
}
