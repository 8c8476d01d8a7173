#include "engine/cluster/dashboard_auth.h"

#include <algorithm>
#include <utility>

#include "engine/cluster/token.h"

namespace nums::engine::cluster {

DashboardAuth::DashboardAuth(std::string token) : token_(std::move(token)), code_(NewToken()) {}

std::string DashboardAuth::code() const {
  std::lock_guard lock(mu_);
  return code_;
}

std::optional<std::string> DashboardAuth::LoginWithCode(const std::string& code,
                                                        Clock::time_point now) {
  std::lock_guard lock(mu_);
  if (code.empty() || !TokenEquals(code, code_)) return std::nullopt;
  code_ = NewToken();
  return NewSession(now);
}

std::optional<std::string> DashboardAuth::LoginWithToken(const std::string& token,
                                                         Clock::time_point now) {
  if (token.empty() || !TokenEquals(token, token_)) return std::nullopt;
  std::lock_guard lock(mu_);
  return NewSession(now);
}

std::string DashboardAuth::NewSession(Clock::time_point now) {
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    it = it->second <= now ? sessions_.erase(it) : std::next(it);
  }
  while (static_cast<int64_t>(sessions_.size()) >= kMaxSessions) {
    auto oldest =
        std::min_element(sessions_.begin(), sessions_.end(),
                         [](const auto& a, const auto& b) { return a.second < b.second; });
    sessions_.erase(oldest);
  }
  std::string id = NewToken();
  sessions_[id] = now + kSessionTtl;
  return id;
}

bool DashboardAuth::Allowed(const std::string& cookie_header, Clock::time_point now) const {
  const std::string id = CookieValue(cookie_header, kCookie);
  if (id.empty()) return false;
  std::lock_guard lock(mu_);
  auto it = sessions_.find(id);
  return it != sessions_.end() && now < it->second;
}

void DashboardAuth::Logout(const std::string& cookie_header) {
  const std::string id = CookieValue(cookie_header, kCookie);
  std::lock_guard lock(mu_);
  sessions_.erase(id);
}

std::string DashboardAuth::CookieValue(const std::string& header, const std::string& name) {
  // "a=1; nums_dashboard=XYZ; b=2": pairs split by ';', spaces around them ignored.
  size_t pos = 0;
  while (pos < header.size()) {
    size_t end = header.find(';', pos);
    if (end == std::string::npos) end = header.size();
    std::string pair = header.substr(pos, end - pos);
    pos = end + 1;
    const size_t first = pair.find_first_not_of(' ');
    if (first == std::string::npos) continue;
    pair.erase(0, first);
    const size_t eq = pair.find('=');
    if (eq == std::string::npos || pair.compare(0, eq, name) != 0 || eq != name.size()) continue;
    std::string value = pair.substr(eq + 1);
    while (!value.empty() && value.back() == ' ') value.pop_back();
    return value;
  }
  return "";
}

}  // namespace nums::engine::cluster
