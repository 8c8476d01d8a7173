#pragma once
// DashboardAuth: who may read the head's dashboard. A browser logs in with a one-time login
// code (the link `nums start --head` prints) or with the cluster token, and gets a session
// cookie. Using a code spends it and makes the next one, so the link in the state directory
// always works once more and a link seen in a terminal's scrollback is useless once used. Pure
// bookkeeping over times given by the caller, so it is tested step by step.

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace nums::engine::cluster {

class DashboardAuth {
 public:
  using Clock = std::chrono::steady_clock;
  /// How long a session cookie is good for after login.
  static constexpr std::chrono::hours kSessionTtl{12};
  /// Sessions kept at most; the oldest is dropped past this.
  static constexpr int64_t kMaxSessions = 256;
  static constexpr const char* kCookie = "nums_dashboard";

  /// `token`: the cluster token, also accepted as a password.
  explicit DashboardAuth(std::string token);

  /// The login code now outstanding (one at a time).
  std::string code() const;
  /// Spends `code` and returns a new session id; nullopt when it is not the outstanding one.
  std::optional<std::string> LoginWithCode(const std::string& code, Clock::time_point now);
  /// A new session id when `token` is the cluster token, else nullopt.
  std::optional<std::string> LoginWithToken(const std::string& token, Clock::time_point now);
  /// Whether a `Cookie:` header carries a session that has not expired by `now`.
  bool Allowed(const std::string& cookie_header, Clock::time_point now) const;
  /// Ends the session the `Cookie:` header carries, if any.
  void Logout(const std::string& cookie_header);

  /// The value of cookie `name` in a `Cookie:` header ("" when absent).
  static std::string CookieValue(const std::string& header, const std::string& name);

 private:
  std::string NewSession(Clock::time_point now);  // with mu_ held

  const std::string token_;
  mutable std::mutex mu_;  // guards code_ and sessions_
  std::string code_;
  std::map<std::string, Clock::time_point> sessions_;  // id -> expiry
};

}  // namespace nums::engine::cluster
