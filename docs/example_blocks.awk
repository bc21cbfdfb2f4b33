# Doxygen input filter (docs/Doxyfile, INPUT_FILTER) for the headers' ///
# comments, which are written to be read as text.
#
# 1. Examples become code. The headers write an example as /// lines indented
# by two more spaces after a line of text:
#
#   /// Example:
#   ///   LayerNorm norm(LayerNormOptions(512).eps(1e-6));
#   ///   auto y = norm(x);  // x: [B, T, 512]
#
# Doxygen would join those lines into one paragraph. This appends \code to the
# line before such a run and \endcode to its last line, so every line keeps
# its number (warnings point at the header's real lines). A plain \code: with
# \code{.cpp}, doxygen 1.9.4 loses track of the block when a later line holds
# a /*...*/ comment, and the language is C++ anyway.
#
# 2. Abbreviations do not end the brief description. With JAVADOC_AUTOBRIEF
# the first sentence is the brief one, and it would end at "e.g. " or
# "et al. "; outside examples these get doxygen's "\ " (a period that ends
# no sentence).

# "///" followed by at least three spaces and some text: a line of an example.
function indented(line) { return line ~ /^[ \t]*\/\/\/   +[^ ]/ }
function doc_comment(line) { return line ~ /^[ \t]*\/\/\// }

doc_comment($0) && !indented($0) {
  gsub(/e\.g\.( |$)/, "e.g.\\ ")
  gsub(/i\.e\.( |$)/, "i.e.\\ ")
  gsub(/et al\.( |$)/, "et al.\\ ")
}

# Each line is printed one step late, once the next line shows whether a run
# starts or ends after it.
NR > 1 {
  if (indented($0) && doc_comment(held) && !indented(held)) held = held " \\code"
  else if (!indented($0) && indented(held)) held = held " \\endcode"
  print held
}
{ held = $0 }
END {
  if (NR > 0) {
    if (indented(held)) held = held " \\endcode"
    print held
  }
}
