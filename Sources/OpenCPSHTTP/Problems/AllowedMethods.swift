import Vapor

/// The methods the application's routes answer at a path: a request whose path exists under
/// other methods only is answered 405 with `Allow` (RFC 9110 §15.5.6), not 404.
enum AllowedMethods {
    /// The methods answered at `path`, in the order the routes were registered (`HEAD` beside
    /// `GET`, which Vapor answers for it); empty when no route has this path.
    static func at(_ path: String, in routes: Routes) -> [HTTPMethod] {
        // Split as Vapor's router splits (DefaultResponder): raw components, empty ones dropped.
        let segments = path.split(separator: "/").map(String.init)
        var methods: [HTTPMethod] = []
        for route in routes.all where !methods.contains(route.method) && matches(route.path, segments) {
            methods.append(route.method)
        }
        if methods.contains(.GET), !methods.contains(.HEAD) { methods.append(.HEAD) }
        return methods
    }

    /// Whether a route's path matches the segments, as RoutingKit matches them: a constant
    /// exactly, a parameter or `*` any one segment, `**` one or more.
    static func matches(_ pattern: [PathComponent], _ segments: [String]) -> Bool {
        var index = 0
        for component in pattern {
            switch component {
            case .catchall:
                return index < segments.count
            case .anything, .parameter:
                guard index < segments.count else { return false }
            case .constant(let text):
                guard index < segments.count, segments[index] == text else { return false }
            }
            index += 1
        }
        return index == segments.count
    }
}
