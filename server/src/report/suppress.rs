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

/// Every line instance of a cube, flattened for speed: members of
/// instance `k` are `members[start[k]..start[k + 1]]`.
struct Lines {
    start: Vec<usize>,
    members: Vec<usize>,
    total: Vec<usize>,
    /// The instance runs along a dimension axis.
    dimension: Vec<bool>,
    /// Instances through each cell (as member or total), CSR.
    adj_start: Vec<usize>,
    adj: Vec<usize>,
}

impl Lines {
    fn members(&self, k: usize) -> &[usize] {
        &self.members[self.start[k]..self.start[k + 1]]
    }

    fn through(&self, cell: usize) -> &[usize] {
        &self.adj[self.adj_start[cell]..self.adj_start[cell + 1]]
    }
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

    fn at(&self, cell: usize, axis: usize) -> usize {
        (cell / self.strides[axis]) % self.axes[axis].len
    }

    /// `cell` moved to position `to` on `axis`.
    fn moved(&self, cell: usize, axis: usize, to: usize) -> usize {
        cell - self.at(cell, axis) * self.strides[axis] + to * self.strides[axis]
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
                for t in 0..self.counts.len() {
                    if self.at(t, a) != line.total {
                        continue;
                    }
                    let sum = line
                        .members
                        .iter()
                        .map(|&m| self.counts[self.moved(t, a, m)])
                        .sum();
                    self.counts[t] = sum;
                }
            }
        }
    }

    /// The sub-cube a cell belongs to: a bit per dimension axis whose
    /// coordinate is not its total.
    fn subcube(&self, cell: usize) -> u32 {
        let mut mask = 0;
        for (bit, (a, axis)) in self
            .axes
            .iter()
            .enumerate()
            .filter(|(_, axis)| axis.dimension.is_some())
            .enumerate()
        {
            if axis.dimension != Some(self.at(cell, a)) {
                mask |= 1 << bit;
            }
        }
        mask
    }

    fn line_instances(&self) -> Lines {
        let mut lines = Lines {
            start: vec![0],
            members: Vec::new(),
            total: Vec::new(),
            dimension: Vec::new(),
            adj_start: Vec::new(),
            adj: Vec::new(),
        };
        for (a, axis) in self.axes.iter().enumerate() {
            for line in &axis.lines {
                for t in 0..self.counts.len() {
                    if self.at(t, a) != line.total {
                        continue;
                    }
                    lines
                        .members
                        .extend(line.members.iter().map(|&m| self.moved(t, a, m)));
                    lines.start.push(lines.members.len());
                    lines.total.push(t);
                    lines.dimension.push(axis.dimension.is_some());
                }
            }
        }
        let mut degree = vec![0usize; self.counts.len() + 1];
        for k in 0..lines.total.len() {
            degree[lines.total[k]] += 1;
            for &m in lines.members(k) {
                degree[m] += 1;
            }
        }
        let mut start = Vec::with_capacity(degree.len());
        let mut sum = 0;
        for d in &degree {
            start.push(sum);
            sum += d;
        }
        let mut fill = start.clone();
        let mut adj = vec![0; sum];
        for k in 0..lines.total.len() {
            let cells: Vec<usize> = lines
                .members(k)
                .iter()
                .copied()
                .chain([lines.total[k]])
                .collect();
            for c in cells {
                adj[fill[c]] = k;
                fill[c] += 1;
            }
        }
        lines.adj_start = start;
        lines.adj = adj;
        lines
    }

    /// Applies primary and secondary suppression (see the module header).
    pub fn suppress(&mut self) {
        let lines = self.line_instances();
        let n_lines = lines.total.len();
        let mut hidden_in = vec![0usize; n_lines];
        let dims = self.axes.iter().filter(|a| a.dimension.is_some()).count();
        let mut masks: Vec<u32> = (0..(1u32 << dims)).collect();
        masks.sort_by_key(|m| (m.count_ones(), *m));
        let subcube: Vec<u32> = (0..self.counts.len()).map(|i| self.subcube(i)).collect();
        let mut by_mask: Vec<Vec<usize>> = vec![Vec::new(); masks.len()];
        for k in 0..n_lines {
            if let Some(&m) = lines.members(k).first() {
                by_mask[subcube[m] as usize].push(k);
            }
        }
        let hide = |cube: &mut Self, cell: usize, why: Hidden, hidden_in: &mut Vec<usize>| {
            cube.hidden[cell] = why;
            for &k in lines.through(cell) {
                hidden_in[k] += 1;
            }
        };
        for mask in masks {
            let small: Vec<usize> = subcube
                .iter()
                .zip(&self.counts)
                .enumerate()
                .filter(|(_, (sub, n))| **sub == mask && (1..THRESHOLD).contains(*n))
                .map(|(i, _)| i)
                .collect();
            for i in small {
                hide(self, i, Hidden::Small, &mut hidden_in);
            }
            loop {
                let mut changed = false;
                for &k in &by_mask[mask as usize] {
                    if hidden_in[k] != 1 {
                        continue;
                    }
                    // Prefer the member whose hiding leaves the fewest other
                    // lines with a single hidden cell (so hidden cells line
                    // up and protect each other instead of cascading), then
                    // a non-zero one (hiding a zero hides little), then the
                    // smallest; never one whose value a one-member line
                    // gives away anyway; the total only when no member can
                    // go and it lies in this sub-cube.
                    let singletons = |c: usize| {
                        lines
                            .through(c)
                            .iter()
                            .filter(|&&j| hidden_in[j] == 0)
                            .count()
                    };
                    let pinned = |c: usize| {
                        lines.through(c).iter().any(|&j| {
                            lines.dimension[j]
                                && lines.members(j) == [c]
                                && self.hidden[lines.total[j]] == Hidden::No
                        })
                    };
                    let t = lines.total[k];
                    let pick = lines
                        .members(k)
                        .iter()
                        .copied()
                        .filter(|&c| self.hidden[c] == Hidden::No && !pinned(c))
                        .min_by_key(|&c| (singletons(c), self.counts[c] == 0, self.counts[c], c))
                        .or_else(|| {
                            (subcube[t] == mask
                                && self.hidden[t] == Hidden::No
                                && self.counts[t] > 0)
                                .then_some(t)
                        });
                    if let Some(c) = pick {
                        hide(self, c, Hidden::Secondary, &mut hidden_in);
                        changed = true;
                    }
                }
                if !changed {
                    break;
                }
            }
        }
    }

    /// Every line instance as (member cells, total cell), for checks.
    pub fn lines(&self) -> Vec<(Vec<Vec<usize>>, Vec<usize>)> {
        let lines = self.line_instances();
        (0..lines.total.len())
            .map(|k| {
                (
                    lines.members(k).iter().map(|&m| self.coord(m)).collect(),
                    self.coord(lines.total[k]),
                )
            })
            .collect()
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
