package meeting

// TakeoverTimeout is how long a host request's answer waits at most for its takeover snapshot
// to be written (takeoverTimeout), for the tests that prove the bound.
const TakeoverTimeout = takeoverTimeout
