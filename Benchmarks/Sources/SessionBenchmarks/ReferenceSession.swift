/// The reference sessions as a Codable type, for Foundation's JSON coders and the Codable bridge.
struct ReferenceSession: Codable, Equatable {
    struct Flash: Codable, Equatable {
        var level: String
        var msg: String
    }

    struct CartItem: Codable, Equatable {
        var sku: String
        var name: String
        var qty: Int
        var unitPrice: Double
        var currency: String
        var addedAt: Int

        enum CodingKeys: String, CodingKey {
            case sku, name, qty, currency
            case unitPrice = "unit_price"
            case addedAt = "added_at"
        }
    }

    struct Visit: Codable, Equatable {
        var path: String
        var at: Int
        var ref: String?
    }

    struct Preferences: Codable, Equatable {
        var theme: String
        var currency: String
        var marketingOptIn: Bool
        var savedSearches: [String]

        enum CodingKeys: String, CodingKey {
            case theme, currency
            case marketingOptIn = "marketing_opt_in"
            case savedSearches = "saved_searches"
        }
    }

    var userID: Int
    var username: String
    var name: String
    var email: String
    var roles: [String]
    var csrfToken: String
    var createdAt: Int
    var lastSeen: Int
    var expiresAt: Int
    var locale: String
    var tz: String
    var flash: [Flash]
    var cart: [CartItem]
    var cartTotal: Double
    var history: [Visit]?
    var recentlyViewed: [String]?
    var prefs: Preferences?

    enum CodingKeys: String, CodingKey {
        case username, name, email, roles, locale, tz, flash, cart, history, prefs
        case userID = "user_id"
        case csrfToken = "csrf_token"
        case createdAt = "created_at"
        case lastSeen = "last_seen"
        case expiresAt = "expires_at"
        case cartTotal = "cart_total"
        case recentlyViewed = "recently_viewed"
    }
}
