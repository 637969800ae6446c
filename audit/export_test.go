package audit

// Queued is how many callers wait for an append, so that a test can line
// callers up behind one that is under way.
func (l *Log) Queued() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.queue)
}
