package auth

// Sizes returns the number of entries in the limiter's tables.
func (lim *Limiter) Sizes() (addrs, users, pairs int) {
	lim.mu.Lock()
	defer lim.mu.Unlock()
	return lim.addrs.len(), lim.users.len(), lim.pairs.len()
}
