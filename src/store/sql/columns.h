#pragma once
/// Internal to the store module: a SELECT (or RETURNING) list whose columns are read by
/// name. The statement text is built from the same list the names are looked up in, so
/// a query and the code that maps its rows cannot drift apart, and a name is turned into
/// its position at compile time (a misspelt or missing name does not compile; reading a
/// row costs what `row[7]` cost).
///
///   constexpr auto kCols = sql::columns("kind", "name", "t.expires_at",
///                                       "CASE WHEN x THEN 1 ELSE 0 END AS flag");
///   fmt::format("SELECT {} FROM ...", kCols.sql());
///   row[kCols("expires_at")] ... row.integer(kCols("flag"))
///
/// A column's name is its alias (after " AS "), else the part after the last '.', else
/// the expression itself; names must be unique within a list.

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

namespace tether::store::sql {

template <size_t N>
class ColumnList {
 public:
  consteval explicit ColumnList(const std::array<std::string_view, N>& expressions)
      : expressions_(expressions) {
    for (size_t i = 0; i < N; ++i) {
      names_[i] = nameOf(expressions_[i]);
      if (names_[i].empty()) throw "a column needs a name";
      for (size_t j = 0; j < i; ++j) {
        if (names_[j] == names_[i]) throw "two columns of one list share a name";
      }
    }
  }

  /// The position of the column called `name`. Evaluated at compile time: a name that is
  /// not in the list is a compile error.
  consteval int operator()(std::string_view name) const {
    for (size_t i = 0; i < N; ++i) {
      if (names_[i] == name) return static_cast<int>(i);
    }
    throw "no column of that name in this list";
  }

  /// True when `other` has the same column names in the same order (the same row shape
  /// read through another expression or alias): `static_assert(a.sameNames(b))`.
  template <size_t M>
  consteval bool sameNames(const ColumnList<M>& other) const {
    if (M != N) return false;
    for (size_t i = 0; i < N; ++i) {
      if (names_[i] != other.name(i)) return false;
    }
    return true;
  }

  /// This list with more columns after it (positions of the existing ones unchanged).
  template <class... More>
  consteval auto plus(More... more) const {
    std::array<std::string_view, N + sizeof...(More)> all{};
    for (size_t i = 0; i < N; ++i) all[i] = expressions_[i];
    size_t next = N;
    ((all[next++] = std::string_view(more)), ...);
    return ColumnList<N + sizeof...(More)>(all);
  }

  static constexpr size_t size() { return N; }
  constexpr std::string_view name(size_t i) const { return names_[i]; }
  constexpr std::string_view expression(size_t i) const { return expressions_[i]; }

  /// The list as statement text: "a, b, CASE ... END AS flag".
  std::string sql() const {
    std::string out;
    for (size_t i = 0; i < N; ++i) {
      if (i != 0) out += ", ";
      out += expressions_[i];
    }
    return out;
  }

 private:
  static constexpr std::string_view nameOf(std::string_view expression) {
    if (const size_t as = expression.rfind(" AS "); as != std::string_view::npos) {
      return expression.substr(as + 4);
    }
    if (const size_t dot = expression.rfind('.'); dot != std::string_view::npos) {
      return expression.substr(dot + 1);
    }
    return expression;
  }

  std::array<std::string_view, N> expressions_;
  std::array<std::string_view, N> names_{};
};

/// Builds a ColumnList at compile time: `constexpr auto kCols = columns("a", "b");`.
template <class... Expressions>
consteval auto columns(Expressions... expressions) {
  return ColumnList<sizeof...(Expressions)>(
      std::array<std::string_view, sizeof...(Expressions)>{std::string_view(expressions)...});
}

}  // namespace tether::store::sql
