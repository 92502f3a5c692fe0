//! Disclosure control over a report's cube (pure): which counts a leader
//! may see, and which are hidden so that no small group can be worked out.
//!
//! A report is a slice of a cube: period × the dimensions the leader split
//! or filtered by × the question's values. Every axis has "lines": sets of
//! cells that add up to a total (the months of a quarter to the quarter,
//! a dimension's values to "all", the
//! options of a one-answer question to "answered"). A reader who can see a
//! line's total and all but a few of its cells knows what the few add up to.
//!
//! **The rules** (strict; the same for every area, not yet tightenable):
//!
//! 1. *Small counts*: a count of 1 to 4 is never shown.
//! 2. *Thin groups*: a group's breakdown (option counts, shares, scores) is
//!    shown only when at least [`MIN_BREAKDOWN`] answered; below that every
//!    option reads "not enough responses" — no zeros that would say "every
//!    child here gave the other answer" (the GP Patient Survey's rule). A
//!    group nobody answered in shows its zeros: there is nobody to protect.
//! 3. *Complementary cells*: in every line whose total is shown (and not
//!    0), the hidden members are either none, or include at least two
//!    protecting ones that add up to at least [`THRESHOLD`]: what a reader
//!    can work out from the line (the sum of the hidden cells) never pins
//!    a small cell as small, nor any hidden cell exactly. A hidden zero
//!    that a reader knows is zero (a wider group's zero is shown) protects
//!    nothing and is never counted; other zeros are chosen only when
//!    nothing else will do. A hidden total has at least one protecting
//!    hidden member. Cells joined by a one-member line (a quarter with one
//!    month of data is that month) are hidden together. Cells are added
//!    cheapest first: a member before the line's total (option
//!    counts before respondent totals); along the options, one the main
//!    score weighs like the hidden ones (so the score still follows from
//!    what is shown); one that settles the line before one that does not,
//!    one that opens the fewest new lines, a small count before a large
//!    one.
//! 4. *One label*: every hidden count reads "hidden", whatever the reason,
//!    apart from a thin group's breakdown ("not enough responses"), and
//!    that only where the group's answered count is shown, which says as
//!    much (with the count hidden, the label would bound it). Two labels
//!    for small and complementary cells would let a reader pin a cell.
//!
//! **Groups not listed** (fewer than 5 respondents of the form, see
//! `report::listed_since`) have no row in any report, and a reader who
//! knows the area's lists knows each of their cells is at most 4
//! ([`Cube::mark_bounded`], as it was when each period was published). In
//! a line they count as hidden whatever their count; where they add up to
//! more than 0, the line needs a hidden member of a listed group as well,
//! the hidden together at least [`THRESHOLD`] (two unlisted groups of 3
//! and 2 would otherwise prove each other small from everyone's total);
//! and they alone never protect a hidden total. And no dimension is left
//! with every value bounded once everyone's count would bound each from
//! below: then the value most have is listed though it has fewer than 5
//! (`report::listed_since`).
//!
//! **One picture per form**: a dimension's "all" cells are the cells of the
//! cube without that dimension, so the cube is suppressed sub-cube by
//! sub-cube, from the one without any dimension upwards, each sub-cube
//! suppressed as it would be on its own and never changing a cell of a
//! lower one. Every report over the same dimensions is a slice of one
//! suppressed cube, and the cells two reports share are suppressed alike.
//! The respondent counts of a form (one per response) are suppressed first,
//! in a cube of their own ([`Cube::base`]); a question's "answered" cell
//! that equals its respondent count (every required question) takes the
//! respondent cell's fate and is never chosen as a complement, and one
//! whose respondent cell is hidden stays hidden: two questions' reports
//! cannot be combined through the counts they share.
//!
//! **Time**: cells are published in rounds ([`Cube::with_rounds`]: a
//! month, and a quarter with its last month), and suppressed round by
//! round: a round's cells are decided looking only at lines whose cells
//! are all published by then, with the earlier rounds' cells fixed as they
//! were, and may not be chosen as complements. A cell that was not in the
//! table when its period was published (a value first recorded later; a
//! number listed only from a later quarter, [`Hidden::Pooled`]) is in no
//! line ([`Cube::set_absent`]). So the cube computed today shows every
//! earlier round's cells exactly as the cube computed then did: a read
//! before and a read after a month is published differ only in the new
//! month (and quarter), which is suppressed with the old ones as the
//! reader knows them. (Counts of a published month never change: see
//! `crate::publication`.)
//!
//! How far this holds is measured by an attacker's audit in the tests
//! (`report::audit`): for random small datasets, every number a leader can
//! read about a form is given to a linear programme, which bounds each
//! hidden count. The rules above are per line, and the programme, solving
//! every line at once, still pins or bounds a hidden count in some
//! datasets (mostly through a smaller sub-cube's published counts, which a
//! larger one may not change): the audit holds that level, and the full
//! guarantee (nothing pinned, nothing shown to be 1 to 4) is its ignored
//! property. See ARCHITECTURE.md, "Disclosure control".

/// The smallest count shown.
pub const THRESHOLD: u64 = 5;
/// The fewest who answered for a group's breakdown to be shown.
pub const MIN_BREAKDOWN: u64 = 10;

/// What a report filtered to a value not listed reads.
pub const UNLISTED: &str = "fewer than 5 with this value so far, or none";

/// Why a cell is hidden.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hidden {
    /// Shown.
    No,
    /// Counts 1 to 4.
    Small,
    /// An option of a group where fewer than [`MIN_BREAKDOWN`] answered.
    Thin,
    /// Hidden so that another hidden cell cannot be worked out.
    Secondary,
    /// A value counted in "other values" in this period (it was listed
    /// only from a later quarter): not a count of its own.
    Pooled,
    /// A filter on a value not listed (fewer than [`THRESHOLD`] had it,
    /// or nobody: the same answer for both): no count at all.
    Unlisted,
}

impl Hidden {
    /// What a reader is told (rule 4 of the module header).
    pub fn label(self) -> Option<&'static str> {
        match self {
            Self::No => None,
            Self::Thin => Some("not enough responses"),
            Self::Small | Self::Secondary => Some("hidden"),
            Self::Pooled => Some("in other values"),
            Self::Unlisted => Some(UNLISTED),
        }
    }
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
    /// Decided outside this cube (by the respondent counts): never changed
    /// here, never chosen as a complement.
    locked: Vec<bool>,
    /// Not part of the table when its period was published (a value first
    /// recorded later; a number listed only from a later quarter): in no
    /// line, never chosen.
    absent: Vec<bool>,
    /// A cell of a group not listed (see `report::listed_since`): no
    /// report shows it, and a reader who knows the area's lists knows it
    /// is at most 4 (its group had fewer than 5 in all). In a line it is
    /// hidden, whatever its count; and since it is small by its label, a
    /// line whose hidden members include such a non-zero cell needs a
    /// hidden member that is not one, or the reader bounds them all.
    bounded: Vec<bool>,
    /// The publication round of each cell (its period's), from
    /// [`Cube::with_rounds`]; all 0 without.
    round: Vec<u32>,
    /// The option axis, whose last position is "answered": the thin-group
    /// rule applies along it.
    breakdown: Option<usize>,
    /// A class per option (how the report's main score weighs it): along
    /// the option axis, complements of the hidden cells' class come first,
    /// so the score still follows from what is shown.
    classes: Vec<u32>,
}

/// What protects a line: its hidden members apart from the cells of groups
/// not listed (`free`), what those cells add up to (`bounded`), and the
/// sum of both (`sum`).
#[derive(Clone, Copy, Debug, Default)]
struct Protecting {
    free: usize,
    bounded: u64,
    sum: u64,
}

/// Every line instance of a cube, flattened for speed: members of
/// instance `k` are `members[start[k]..start[k + 1]]`.
struct Lines {
    start: Vec<usize>,
    members: Vec<usize>,
    total: Vec<usize>,
    /// The instance runs along a dimension axis.
    dimension: Vec<bool>,
    /// The axis it runs along.
    axis: Vec<usize>,
    /// Its round: the latest of its cells' (it is published then).
    round: Vec<u32>,
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
            locked: vec![false; size],
            absent: vec![false; size],
            bounded: vec![false; size],
            round: vec![0; size],
            breakdown: None,
            classes: Vec::new(),
        }
    }

    /// Applies the thin-group rule along `axis` (the options, then
    /// "answered" last).
    pub fn with_breakdown(mut self, axis: usize) -> Self {
        self.breakdown = Some(axis);
        self
    }

    /// Gives each option (position on the breakdown axis) a class: how the
    /// report's main score weighs it.
    pub fn with_classes(mut self, classes: Vec<u32>) -> Self {
        self.classes = classes;
        self
    }

    /// Publishes `axis` in rounds: position `i` is published in round
    /// `rounds[i]` (see "Time" in the module header).
    pub fn with_rounds(mut self, axis: usize, rounds: &[u32]) -> Self {
        for c in 0..self.counts.len() {
            self.round[c] = rounds.get(self.at(c, axis)).copied().unwrap_or(0);
        }
        self
    }

    /// The round a cell is published in.
    pub fn round_of(&self, coord: &[usize]) -> u32 {
        self.round[self.index(coord)]
    }

    /// Marks a cell as not part of the table (see the field): shown as its
    /// count (0), or as [`Hidden::Pooled`] when `pooled`.
    pub fn set_absent(&mut self, coord: &[usize], pooled: bool) {
        let i = self.index(coord);
        self.absent[i] = true;
        self.locked[i] = true;
        self.hidden[i] = if pooled { Hidden::Pooled } else { Hidden::No };
    }

    /// Marks every cell `bounded` says is in a group not listed (see the
    /// field).
    pub fn mark_bounded(&mut self, bounded: impl Fn(&[usize]) -> bool) {
        for i in 0..self.counts.len() {
            self.bounded[i] = bounded(&self.coord(i));
        }
    }

    /// Marks every cell `absent` says is absent (`Some(pooled)`, see
    /// [`Cube::set_absent`]).
    pub fn mark_absent(&mut self, absent: impl Fn(&[usize]) -> Option<bool>) {
        for i in 0..self.counts.len() {
            let coord = self.coord(i);
            if let Some(pooled) = absent(&coord) {
                self.set_absent(&coord, pooled);
            }
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

    /// Fixes a cell's fate from outside (see [`Cube::base`]): shown or
    /// hidden, whatever this cube's own rules would say.
    pub fn lock(&mut self, coord: &[usize], hidden: bool) {
        let i = self.index(coord);
        self.locked[i] = true;
        self.hidden[i] = match (hidden, self.counts[i]) {
            (false, _) => Hidden::No,
            (true, 1..THRESHOLD) => Hidden::Small,
            (true, _) => Hidden::Secondary,
        };
    }

    /// Ties this cube's "answered" cells to a suppressed cube of the same
    /// respondents' counts (`base`: this cube without its option axis,
    /// which must be last). An answered cell equal to its respondent count
    /// takes the respondent cell's fate; one whose respondent cell is
    /// hidden stays hidden. Call after [`Cube::aggregate`], before
    /// [`Cube::suppress`].
    pub fn base(&mut self, base: &Self) {
        let Some(last) = self.axes.len().checked_sub(1) else {
            return;
        };
        let answered = self.axes[last].len - 1;
        for b in 0..base.counts.len() {
            let mut coord = base.coord(b);
            coord.push(answered);
            let (n, hidden) = (base.counts[b], base.hidden[b] != Hidden::No);
            let i = self.index(&coord);
            // A cell not in the table (see `set_absent`) keeps its label.
            if self.absent[i] {
                continue;
            }
            if self.counts[i] == n || hidden {
                self.lock(&coord, hidden);
            }
        }
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
            axis: Vec::new(),
            round: Vec::new(),
            adj_start: Vec::new(),
            adj: Vec::new(),
        };
        for (a, axis) in self.axes.iter().enumerate() {
            for line in &axis.lines {
                for t in 0..self.counts.len() {
                    if self.at(t, a) != line.total || self.absent[t] {
                        continue;
                    }
                    let before = lines.members.len();
                    lines.members.extend(
                        line.members
                            .iter()
                            .map(|&m| self.moved(t, a, m))
                            .filter(|&m| !self.absent[m]),
                    );
                    if lines.members.len() == before {
                        continue;
                    }
                    lines.start.push(lines.members.len());
                    lines.total.push(t);
                    lines.dimension.push(axis.dimension.is_some());
                    lines.axis.push(a);
                    let k = lines.total.len() - 1;
                    let latest = lines
                        .members(k)
                        .iter()
                        .chain([&t])
                        .map(|&c| self.round[c])
                        .max()
                        .unwrap_or(0);
                    lines.round.push(latest);
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

    /// Which zero cells a reader knows to be zero: shown, a member of a
    /// line whose total is known to be zero, or the total of a line of
    /// known zeros (recomputed when a zero is hidden; zeros hidden are
    /// rare).
    fn known_zeros(&self, lines: &Lines, subcube: &[u32], round: u32) -> Vec<bool> {
        let mut known: Vec<bool> = (0..self.counts.len())
            .map(|c| self.counts[c] == 0 && self.hidden[c] == Hidden::No && !self.bounded[c])
            .collect();
        loop {
            let mut changed = false;
            for c in 0..self.counts.len() {
                if known[c] || self.counts[c] != 0 {
                    continue;
                }
                // Below a known zero, or the total of known zeros (of its
                // own sub-cube: a larger one's are not decided yet, and
                // must not be, for this one to be suppressed as it would
                // be on its own).
                // (Lines published by this round only.)
                if lines.through(c).iter().any(|&j| {
                    if lines.round[j] > round {
                        false
                    } else if lines.total[j] == c {
                        let ms = lines.members(j);
                        ms.first().is_some_and(|&m| subcube[m] == subcube[c])
                            && ms.iter().all(|&m| known[m])
                    } else {
                        known[lines.total[j]]
                    }
                }) {
                    known[c] = true;
                    changed = true;
                }
            }
            if !changed {
                return known;
            }
        }
    }

    /// Line `k`'s hidden members that protect: how many (non-zero ones,
    /// and zeros a reader cannot bound by 0) apart from the cells of
    /// groups not listed, and what they add up to with those.
    fn protecting(&self, lines: &Lines, zeros: &[bool], k: usize) -> Protecting {
        let mut p = Protecting::default();
        for &m in lines.members(k) {
            if self.bounded[m] {
                p.bounded += self.counts[m];
                p.sum += self.counts[m];
            } else if self.hidden[m] != Hidden::No && !zeros[m] {
                p.free += 1;
                p.sum += self.counts[m];
            }
        }
        p
    }

    /// Whether line `k` breaks rule 3: a shown non-zero total whose line
    /// hides members, but not two protecting ones adding up to at least
    /// [`THRESHOLD`] (where cells of groups not listed add up to more
    /// than 0: at least one other protecting one, the whole at least
    /// [`THRESHOLD`]); or a hidden total with no protecting hidden member
    /// of a listed group (a hidden zero too: shown zeros below it would
    /// add up to it). A line whose total is in a group not listed is shown
    /// nowhere.
    fn broken(&self, lines: &Lines, zeros: &[bool], k: usize) -> bool {
        let t = lines.total[k];
        if self.bounded[t] || (self.counts[t] == 0 && self.hidden[t] == Hidden::No) {
            return false;
        }
        let p = self.protecting(lines, zeros, k);
        if self.hidden[t] == Hidden::No {
            let any = p.free > 0
                || p.bounded > 0
                || lines
                    .members(k)
                    .iter()
                    .any(|&m| self.hidden[m] != Hidden::No && !self.bounded[m]);
            let enough = if p.bounded > 0 {
                p.free >= 1
            } else {
                p.free >= 2
            };
            any && (!enough || p.sum < THRESHOLD)
        } else {
            // (Cells of groups not listed bound it: a reader knows each is
            // at most 4.)
            p.free == 0
        }
    }

    /// Hides the cheapest cell that mends line `k` (rule 3's order), if
    /// one may be hidden here; the cell hidden.
    fn mend(
        &mut self,
        lines: &Lines,
        zeros: &[bool],
        subcube: &[u32],
        (mask, round): (u32, u32),
        k: usize,
    ) -> Option<usize> {
        let t = lines.total[k];
        let total_shown = self.hidden[t] == Hidden::No;
        let p = self.protecting(lines, zeros, k);
        // Lines through a cell that are whole now and its hiding would
        // break: fewer is cheaper.
        // (Only this sub-cube's lines: the choice must not depend on which
        // larger cube this one is part of.)
        let opens = |c: usize| {
            lines
                .through(c)
                .iter()
                .filter(|&&j| {
                    j != k
                        && lines.round[j] <= round
                        && lines
                            .members(j)
                            .first()
                            .is_some_and(|&m| subcube[m] == mask)
                        && !self.broken(lines, zeros, j)
                })
                .filter(|&&j| {
                    let tj = lines.total[j];
                    if tj == c {
                        self.protecting(lines, zeros, j).free == 0
                    } else {
                        let pj = self.protecting(lines, zeros, j);
                        self.hidden[tj] == Hidden::No
                            && self.counts[tj] > 0
                            && !self.bounded[tj]
                            && (pj.free == 0 || pj.sum + self.counts[c] < THRESHOLD)
                    }
                })
                .count()
        };
        let settles = |c: usize| {
            !total_shown || ((p.free >= 1 || p.bounded > 0) && p.sum + self.counts[c] >= THRESHOLD)
        };
        // Along the options: a complement unlike the hidden ones hides the
        // score too.
        let class_of = |c: usize| self.classes.get(self.at(c, lines.axis[k])).copied();
        let hidden_class = (Some(lines.axis[k]) == self.breakdown)
            .then(|| {
                lines
                    .members(k)
                    .iter()
                    .find(|&&m| self.hidden[m] != Hidden::No)
                    .and_then(|&m| class_of(m))
            })
            .flatten();
        let unlike = |c: usize| hidden_class.is_some_and(|h| class_of(c) != Some(h));
        let pick = lines
            .members(k)
            .iter()
            .copied()
            .filter(|&c| {
                // (A shown zero is known; hidden, it stays known when a
                // wider group's zero is.)
                let known_zero = self.counts[c] == 0
                    && lines.through(c).iter().any(|&j| {
                        if lines.round[j] > round {
                            false
                        } else if lines.total[j] == c {
                            let ms = lines.members(j);
                            ms.first().is_some_and(|&m| subcube[m] == mask)
                                && ms.iter().all(|&m| zeros[m])
                        } else {
                            zeros[lines.total[j]]
                        }
                    });
                self.hidden[c] == Hidden::No
                    && !self.bounded[c]
                    && !self.locked[c]
                    && self.round[c] == round
                    && !known_zero
                    && self.twins(lines, subcube, (mask, round), c).is_some()
            })
            .min_by_key(|&c| {
                (
                    unlike(c),
                    !settles(c),
                    opens(c),
                    self.counts[c] == 0,
                    self.counts[c],
                    c,
                )
            })
            .or_else(|| {
                (total_shown
                    && subcube[t] == mask
                    && self.round[t] == round
                    && !self.locked[t]
                    && self.counts[t] > 0)
                    .then_some(t)
            })
            .or_else(|| {
                // The last resort, when a lower sub-cube (already
                // published) leaves nothing else: a zero a reader could
                // bound by 0. It stops a reader adding along lines, not
                // one who also bounds by zeros; the audit counts these.
                lines.members(k).iter().copied().find(|&c| {
                    self.hidden[c] == Hidden::No
                        && !self.bounded[c]
                        && !self.locked[c]
                        && self.round[c] == round
                        && self.twins(lines, subcube, (mask, round), c).is_some()
                })
            })?;
        let twins = self.twins(lines, subcube, (mask, round), pick)?;
        for c in twins {
            self.hidden[c] = Hidden::Secondary;
        }
        Some(pick)
    }

    /// The cells that are one number with `c` — joined by one-member lines
    /// (a quarter with one month of data is that month; a dimension with
    /// one value is its "all") — and so are hidden together; `None` when
    /// one of them is shown and may not be hidden here (in a lower
    /// sub-cube, or decided by the respondent counts).
    fn twins(
        &self,
        lines: &Lines,
        subcube: &[u32],
        (mask, round): (u32, u32),
        c: usize,
    ) -> Option<Vec<usize>> {
        let mut out = vec![c];
        let mut i = 0;
        while let Some(&x) = out.get(i) {
            i += 1;
            for &j in lines.through(x) {
                let (ms, tj) = (lines.members(j), lines.total[j]);
                // (A larger sub-cube's cell, or a later round's, follows
                // this one when its turn comes.)
                if ms.len() != 1 || subcube[ms[0]] != mask || lines.round[j] > round {
                    continue;
                }
                let other = if ms[0] == x { tj } else { ms[0] };
                if out.contains(&other) || self.hidden[other] != Hidden::No {
                    continue;
                }
                if subcube[other] != mask || self.locked[other] || self.round[other] != round {
                    return None;
                }
                out.push(other);
            }
        }
        Some(out)
    }

    /// Applies the rules of the module header, round by round (each
    /// round's cells decided with every earlier round's as they were
    /// published), and in each round sub-cube by sub-cube from the one
    /// without dimensions upwards.
    pub fn suppress(&mut self) {
        let lines = self.line_instances();
        let dims = self.axes.iter().filter(|a| a.dimension.is_some()).count();
        let mut masks: Vec<u32> = (0..(1u32 << dims)).collect();
        masks.sort_by_key(|m| (m.count_ones(), *m));
        let subcube: Vec<u32> = (0..self.counts.len()).map(|i| self.subcube(i)).collect();
        let mut rounds = self.round.clone();
        rounds.sort_unstable();
        rounds.dedup();
        // Cells and lines by (round, sub-cube).
        let slot = |round: u32, mask: u32| {
            rounds.binary_search(&round).unwrap_or(0) * masks.len() + mask as usize
        };
        let mut cells_at: Vec<Vec<usize>> = vec![Vec::new(); rounds.len() * masks.len()];
        for c in 0..self.counts.len() {
            cells_at[slot(self.round[c], subcube[c])].push(c);
        }
        let mut lines_at: Vec<Vec<usize>> = vec![Vec::new(); rounds.len() * masks.len()];
        for k in 0..lines.total.len() {
            if let Some(&m) = lines.members(k).first() {
                lines_at[slot(lines.round[k], subcube[m])].push(k);
            }
        }
        let answered = self.breakdown.map(|b| (b, self.axes[b].len - 1));
        for &round in &rounds {
            for &mask in &masks {
                let at = slot(round, mask);
                for &c in &cells_at[at] {
                    if self.locked[c] || self.hidden[c] != Hidden::No {
                        continue;
                    }
                    let thin = answered.is_some_and(|(b, total)| {
                        self.at(c, b) != total
                            && (1..MIN_BREAKDOWN).contains(&self.counts[self.moved(c, b, total)])
                    });
                    // A group of nobody whose count is hidden (the
                    // respondent counts chose it) hides its zeros too:
                    // they would add up to it.
                    let nobody_hidden = answered.is_some_and(|(b, total)| {
                        let t = self.moved(c, b, total);
                        self.at(c, b) != total
                            && self.counts[t] == 0
                            && self.hidden[t] != Hidden::No
                    });
                    if thin {
                        self.hidden[c] = Hidden::Thin;
                    } else if nobody_hidden {
                        self.hidden[c] = Hidden::Secondary;
                    } else if (1..THRESHOLD).contains(&self.counts[c]) {
                        self.hidden[c] = Hidden::Small;
                    }
                }
                if lines_at[at].is_empty() {
                    continue;
                }
                let mut zeros = self.known_zeros(&lines, &subcube, round);
                loop {
                    let mut changed = false;
                    for &k in &lines_at[at] {
                        if !self.broken(&lines, &zeros, k) {
                            continue;
                        }
                        if let Some(c) = self.mend(&lines, &zeros, &subcube, (mask, round), k) {
                            changed = true;
                            if self.counts[c] == 0 {
                                zeros = self.known_zeros(&lines, &subcube, round);
                            }
                        }
                    }
                    if !changed {
                        break;
                    }
                }
            }
        }
        // "Not enough responses" says fewer than 10 answered: only where
        // that count is shown (otherwise a reader learns it from the
        // label). Both labels hide, so no line reads differently, and a
        // group's answered count is decided in its options' round.
        if let Some((b, total)) = answered {
            for c in 0..self.counts.len() {
                if self.hidden[c] == Hidden::Thin
                    && self.hidden[self.moved(c, b, total)] != Hidden::No
                {
                    self.hidden[c] = Hidden::Secondary;
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
            // One small cell: the smallest that settles the line goes too.
            (&[3, 20, 30], &[None, None, Some(30), Some(53)]),
            // Two small cells adding up to 5 protect each other...
            (&[3, 2, 30], &[None, None, Some(30), Some(35)]),
            // ...but not when they add up to less: a reader would know
            // both are small.
            (&[2, 2, 30], &[None, None, None, Some(34)]),
            // A zero does not protect: it adds nothing to the hidden sum.
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
    fn not_enough_responses_is_said_only_where_the_answered_count_is_shown() {
        // Two groups' answers to three options, and each group's answered
        // count: 9 (fewer than 10) and 4 (small, so hidden), the 9 hidden
        // with it. "Not enough responses" for the 9 would say it is at
        // most 9, and everyone's 13 less at most 4 says at least 9: it
        // would be pinned.
        let mut cube = Cube::new(vec![Axis::dimension(2), Axis::dimension(3)]).with_breakdown(1);
        for (g, options) in [[3, 4, 2], [2, 1, 1]].iter().enumerate() {
            for (o, n) in options.iter().enumerate() {
                cube.add(&[g, o], *n);
            }
        }
        cube.aggregate();
        cube.suppress();
        assert_eq!(cube.get(&[2, 3]), (13, Hidden::No));
        assert_ne!(cube.get(&[0, 3]).1, Hidden::No);
        for o in 0..3 {
            assert_eq!(cube.get(&[0, o]).1.label(), Some("hidden"));
        }
        // Where the answered count is shown, the label stays.
        let mut thin = Cube::new(vec![Axis::dimension(3)]).with_breakdown(0);
        for (o, n) in [3, 4, 2].iter().enumerate() {
            thin.add(&[o], *n);
        }
        thin.aggregate();
        thin.suppress();
        assert_eq!(thin.get(&[3]), (9, Hidden::No));
        assert_eq!(thin.get(&[0]).1, Hidden::Thin);
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
