/// A refusal because of too many attempts: the caller must wait `retryAfter` seconds. The
/// HTTP edge answers it with `429 Too Many Requests` and a `Retry-After` header.
public protocol RateLimitedError: DomainError {
    /// Seconds to wait before trying again (at least 1).
    var retryAfter: Int { get }
}
