# Sourced by the petsc test scripts: the comparison of two runs' stdout that every one of them
# makes.
#
# same_output REFERENCE OUTPUT DIFF: whether the two files print the same once
# -ts_trajectory_view's block (its "TSTrajectory Object" line and the indented lines under it,
# which differ by type) is left out of both; the differences go to DIFF.
same_output() {
  diff <(grep -v "^ \|TSTrajectory Object" "$1") <(grep -v "^ \|TSTrajectory Object" "$2") >"$3"
}
