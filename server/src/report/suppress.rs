//! Small-number suppression over a report's cube (pure).
//!
//! A report is a slice of a cube: period × the dimensions the leader split
//! or filtered by × the question's values. Every axis has "lines": sets of
//! cells that add up to a total (the months of a quarter to the quarter,
//! the quarters to the whole range, a dimension's values to "all", the
//! options of a one-answer question to "answered"). A leader who can see a
//! line's total and all but one of its cells can work that cell out, so:
//!
//! 1. **Primary**: every cell counting 1 to 4 respondents is suppressed
//!    ("fewer than 5"); zeros are shown.
//! 2. **Secondary**: wherever a line has exactly one suppressed cell (its
//!    total counted as one of its cells), the smallest non-zero shown cell
//!    of the line is suppressed too, preferring a member over the total;
//!    repeated until no line has exactly one.
//!
//! Across reports: a dimension's "all" cells are the cells of the cube
//! without that dimension. The cube is therefore suppressed sub-cube by
//! sub-cube, from the one without any dimension upwards, each sub-cube
//! suppressed as it would be on its own and never changing a cell of a
//! lower one. So the cells two reports share (say "all settings" in a
//! report split by setting and in one without a split) are suppressed the
//! same way in both, and a filter is just a slice of the cube with the
//! filtered dimension as an axis: filtering to one setting shows exactly
//! what the split by setting shows for it.

/// The smallest count shown.
pub const THRESHOLD: u64 = 5;

/// Why a cell is hidden.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hidden {
    /// Shown.
    No,
    /// Counts 1 to 4.
    Small,
    /// Hidden so a small cell cannot be worked out.
    Secondary,
}

/// Cells of an axis that add up to `total`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// Indices of the members on the axis.
    pub members: Vec<usize>,
    /// Index of their total on the axis.
    pub total: usize,
    /// The total is computed from the members (otherwise it is data).
    pub derived: bool,
}

/// One axis of the cube.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Axis {
    /// Number of positions (leaves and totals).
    pub len: usize,
    /// Additive relations, in the order totals are computed.
    pub lines: Vec<Line>,
    /// A dimension axis: its single total ("all") belongs to the sub-cube
    /// without the dimension.
    pub dimension: Option<usize>,
}

impl Axis {
    /// A dimension with `n` values and a total after them.
    pub fn dimension(n: usize) -> Self {
        Self {
            len: n + 1,
            lines: vec![Line {
                members: (0..n).collect(),
                total: n,
                derived: true,
            }],
            dimension: Some(n),
        }
    }
}

/// A dense cube of counts and their suppression.
#[derive(Clone, Debug)]
pub struct Cube {
    axes: Vec<Axis>,
    strides: Vec<usize>,
    counts: Vec<u64>,
    hidden: Vec<Hidden>,
}

impl Cube {
    /// An empty cube over `axes`.
    pub fn new(axes: Vec<Axis>) -> Self {
        let mut strides = vec![0; axes.len()];
        let mut size = 1usize;
        for (i, a) in axes.iter().enumerate().rev() {
            strides[i] = size;
            size = size.saturating_mul(a.len);
        }
        Self {
            axes,
            strides,
            counts: vec![0; size],
            hidden: vec![Hidden::No; size],
        }
    }

    /// Number of cells.
    pub fn size(&self) -> usize {
        self.counts.len()
    }

    fn index(&self, coord: &[usize]) -> usize {
        coord.iter().zip(&self.strides).map(|(c, s)| c * s).sum()
    }

    fn coord(&self, mut index: usize) -> Vec<usize> {
        self.strides
            .iter()
            .map(|s| {
                let c = index / s;
                index %= s;
                c
            })
            .collect()
    }

    /// Adds `n` to a data cell.
    pub fn add(&mut self, coord: &[usize], n: u64) {
        let i = self.index(coord);
        self.counts[i] += n;
    }

    /// A cell's count and whether it is hidden.
    pub fn get(&self, coord: &[usize]) -> (u64, Hidden) {
        let i = self.index(coord);
        (self.counts[i], self.hidden[i])
    }

    /// Computes every derived total from its members.
    pub fn aggregate(&mut self) {
        for a in 0..self.axes.len() {
            let lines = self.axes[a].lines.clone();
            for line in lines.iter().filter(|l| l.derived) {
                for i in 0..self.counts.len() {
                    let coord = self.coord(i);
                    if coord[a] != line.total {
                        continue;
                    }
                    let mut c = coord.clone();
                    let mut sum = 0;
                    for &m in &line.members {
                        c[a] = m;
                        sum += self.counts[self.index(&c)];
                    }
                    self.counts[i] = sum;
                }
            }
        }
    }

    /// The sub-cube a coordinate belongs to: a bit per dimension axis whose
    /// coordinate is not its total.
    fn subcube(&self, coord: &[usize]) -> u32 {
        let mut mask = 0;
        for (bit, (a, c)) in self
            .axes
            .iter()
            .zip(coord)
            .filter(|(a, _)| a.dimension.is_some())
            .enumerate()
        {
            if a.dimension != Some(*c) {
                mask |= 1 << bit;
            }
        }
        mask
    }

    /// Applies primary and secondary suppression (see the module header).
    pub fn suppress(&mut self) {
        let dims = self.axes.iter().filter(|a| a.dimension.is_some()).count();
        let mut masks: Vec<u32> = (0..(1u32 << dims)).collect();
        masks.sort_by_key(|m| (m.count_ones(), *m));
        let subcube: Vec<u32> = (0..self.counts.len())
            .map(|i| self.subcube(&self.coord(i)))
            .collect();
        for mask in masks {
            for ((hidden, n), sub) in self.hidden.iter_mut().zip(&self.counts).zip(&subcube) {
                if *sub == mask && (1..THRESHOLD).contains(n) {
                    *hidden = Hidden::Small;
                }
            }
            while self.secondary_pass(mask, &subcube) {}
        }
    }

    /// One pass over every line whose members lie in sub-cube `mask`.
    /// Returns whether it hid anything.
    fn secondary_pass(&mut self, mask: u32, subcube: &[u32]) -> bool {
        let mut changed = false;
        for a in 0..self.axes.len() {
            let lines = self.axes[a].lines.clone();
            for line in &lines {
                for t in 0..self.counts.len() {
                    let coord = self.coord(t);
                    if coord[a] != line.total {
                        continue;
                    }
                    let mut c = coord.clone();
                    let members: Vec<usize> = line
                        .members
                        .iter()
                        .map(|&m| {
                            c[a] = m;
                            self.index(&c)
                        })
                        .collect();
                    if members.first().is_none_or(|&m| subcube[m] != mask) {
                        continue;
                    }
                    let hidden = members
                        .iter()
                        .chain(std::iter::once(&t))
                        .filter(|&&i| self.hidden[i] != Hidden::No)
                        .count();
                    if hidden != 1 {
                        continue;
                    }
                    // Prefer the member whose hiding leaves the fewest other
                    // lines with a single hidden cell (so hidden cells line
                    // up and protect each other instead of cascading), then
                    // a non-zero one (hiding a zero hides little), then the
                    // smallest; never one whose value a one-member line
                    // gives away anyway.
                    let pick = members
                        .iter()
                        .copied()
                        .filter(|&i| self.hidden[i] == Hidden::No && !self.pinned(i))
                        .min_by_key(|&i| {
                            (
                                self.new_singletons(i),
                                self.counts[i] == 0,
                                self.counts[i],
                                i,
                            )
                        })
                        .or_else(|| {
                            // The total, if it is in this sub-cube.
                            (subcube[t] == mask
                                && self.hidden[t] == Hidden::No
                                && self.counts[t] > 0)
                                .then_some(t)
                        });
                    if let Some(i) = pick {
                        self.hidden[i] = Hidden::Secondary;
                        changed = true;
                    }
                }
            }
        }
        changed
    }

    /// How many lines through cell `i` have no hidden cell yet (hiding `i`
    /// would leave each with exactly one, to be protected in turn).
    fn new_singletons(&self, i: usize) -> usize {
        let coord = self.coord(i);
        let mut n = 0;
        for (a, axis) in self.axes.iter().enumerate() {
            for line in &axis.lines {
                let on = coord[a] == line.total || line.members.contains(&coord[a]);
                if !on {
                    continue;
                }
                let mut c = coord.clone();
                let any_hidden =
                    line.members
                        .iter()
                        .chain(std::iter::once(&line.total))
                        .any(|&m| {
                            c[a] = m;
                            self.hidden[self.index(&c)] != Hidden::No
                        });
                if !any_hidden {
                    n += 1;
                }
            }
        }
        n
    }

    /// Whether cell `i` is the only member of a dimension's line whose
    /// total (in a lower sub-cube) is shown: hiding it would hide nothing.
    fn pinned(&self, i: usize) -> bool {
        let coord = self.coord(i);
        self.axes.iter().enumerate().any(|(a, axis)| {
            axis.dimension.is_some()
                && axis.lines.iter().any(|l| {
                    l.members == [coord[a]] && {
                        let mut t = coord.clone();
                        t[a] = l.total;
                        self.hidden[self.index(&t)] == Hidden::No
                    }
                })
        })
    }

    /// Every line instance as (member cells, total cell), for checks.
    pub fn lines(&self) -> Vec<(Vec<Vec<usize>>, Vec<usize>)> {
        let mut out = Vec::new();
        for (a, axis) in self.axes.iter().enumerate() {
            for line in &axis.lines {
                for t in 0..self.counts.len() {
                    let coord = self.coord(t);
                    if coord[a] != line.total {
                        continue;
                    }
                    let members = line
                        .members
                        .iter()
                        .map(|&m| {
                            let mut c = coord.clone();
                            c[a] = m;
                            c
                        })
                        .collect();
                    out.push((members, coord));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A one-dimensional table: `counts` and their total.
    fn row(counts: &[u64]) -> Cube {
        let mut cube = Cube::new(vec![Axis::dimension(counts.len())]);
        for (i, n) in counts.iter().enumerate() {
            cube.add(&[i], *n);
        }
        cube.aggregate();
        cube.suppress();
        cube
    }

    fn shown(cube: &Cube, len: usize) -> Vec<Option<u64>> {
        (0..len)
            .map(|i| match cube.get(&[i]) {
                (n, Hidden::No) => Some(n),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn suppression_table() {
        // (cells, shown cells then the total; None = hidden)
        let cases: &[(&[u64], &[Option<u64>])] = &[
            (&[10, 20], &[Some(10), Some(20), Some(30)]),
            // One small cell: the next smallest goes too.
            (&[3, 20, 30], &[None, None, Some(30), Some(53)]),
            // Two small cells protect each other.
            (&[3, 2, 30], &[None, None, Some(30), Some(35)]),
            // Zeros are shown, and picked only when nothing else is left.
            (&[3, 0, 9], &[None, Some(0), None, Some(12)]),
            (&[3, 0, 6], &[None, Some(0), None, Some(9)]),
            // A small total: everything small goes.
            (&[3, 0], &[None, Some(0), None]),
            (&[0, 0], &[Some(0), Some(0), Some(0)]),
            (&[5, 5], &[Some(5), Some(5), Some(10)]),
        ];
        for (cells, want) in cases {
            let cube = row(cells);
            assert_eq!(&shown(&cube, cells.len() + 1), want, "cells {cells:?}");
        }
    }

    #[test]
    fn the_total_is_hidden_only_when_no_member_can_be() {
        // One member small, the other zero: the total equals the small
        // member, and is small itself.
        let cube = row(&[4, 0]);
        assert_eq!(cube.get(&[2]).1, Hidden::Small);
    }

    /// Can any hidden cell be worked out exactly, by repeatedly solving
    /// lines with one unknown? (The attack a reader with a spreadsheet
    /// makes.)
    fn worked_out(cube: &Cube) -> Option<Vec<usize>> {
        let lines = cube.lines();
        let mut known: std::collections::HashMap<Vec<usize>, u64> =
            std::collections::HashMap::new();
        let value = |known: &std::collections::HashMap<Vec<usize>, u64>, c: &Vec<usize>| {
            let (n, h) = cube.get(c);
            if h == Hidden::No {
                Some(n)
            } else {
                known.get(c).copied()
            }
        };
        loop {
            let mut progress = false;
            for (members, total) in &lines {
                let mut unknown: Vec<&Vec<usize>> = members
                    .iter()
                    .chain(std::iter::once(total))
                    .filter(|c| value(&known, c).is_none())
                    .collect();
                if unknown.len() == 1 {
                    let c = unknown.pop().expect("one");
                    let n = cube.get(c).0;
                    if (1..THRESHOLD).contains(&n) {
                        return Some(c.clone());
                    }
                    known.insert(c.clone(), n);
                    progress = true;
                }
            }
            if !progress {
                return None;
            }
        }
    }

    fn cube_strategy() -> impl Strategy<Value = (Vec<usize>, Vec<u64>)> {
        (1usize..4, 1usize..5, 1usize..5).prop_flat_map(|(a, b, c)| {
            let shape = vec![a, b, c];
            let cells = a * b * c;
            (
                Just(shape),
                proptest::collection::vec(prop_oneof![0u64..6, 0u64..40], cells),
            )
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        /// However the counts fall, no small cell of a cube (three
        /// dimensions, every total shown unless hidden) can be worked out
        /// from what is shown.
        #[test]
        fn no_small_cell_can_be_worked_out((shape, cells) in cube_strategy()) {
            let mut cube = Cube::new(shape.iter().map(|&n| Axis::dimension(n)).collect());
            let mut i = 0;
            for x in 0..shape[0] {
                for y in 0..shape[1] {
                    for z in 0..shape[2] {
                        cube.add(&[x, y, z], cells[i]);
                        i += 1;
                    }
                }
            }
            cube.aggregate();
            cube.suppress();
            prop_assert_eq!(worked_out(&cube), None);
            // And nothing small is ever shown.
            for i in 0..cube.size() {
                let c = cube.coord(i);
                let (n, h) = cube.get(&c);
                prop_assert!(!((1..THRESHOLD).contains(&n) && h == Hidden::No));
            }
        }

        /// The cells a cube shares with a smaller one (a dimension at
        /// "all") are suppressed exactly as in the smaller cube on its own.
        #[test]
        fn shared_cells_are_suppressed_alike((shape, cells) in cube_strategy()) {
            let mut big = Cube::new(shape.iter().map(|&n| Axis::dimension(n)).collect());
            let mut small = Cube::new(shape[..2].iter().map(|&n| Axis::dimension(n)).collect());
            let mut i = 0;
            for x in 0..shape[0] {
                for y in 0..shape[1] {
                    for z in 0..shape[2] {
                        big.add(&[x, y, z], cells[i]);
                        small.add(&[x, y], cells[i]);
                        i += 1;
                    }
                }
            }
            for c in [&mut big, &mut small] {
                c.aggregate();
                c.suppress();
            }
            for x in 0..=shape[0] {
                for y in 0..=shape[1] {
                    prop_assert_eq!(big.get(&[x, y, shape[2]]), small.get(&[x, y]));
                }
            }
        }
    }
}
