//! What an index stores of its points: the rows, their compressed codes, their labels, which
//! of them were removed, and the sets of ids a filtered search may return; and the buffer,
//! owned or mapped from a file, that holds rows and lists.

mod buffer;
mod codes;
mod id_set;
mod labels;
mod points;
mod rabitq;
mod sq8;
mod tombstones;

pub(crate) use buffer::{Buffer, Mapped};
pub(crate) use codes::{Codes, RowCodes};
pub(crate) use id_set::IdSet;
pub(crate) use labels::Labels;
pub use labels::NO_LABEL;
pub(crate) use points::{Points, RowsCheck};
pub(crate) use rabitq::{Rabitq4, ROUNDS};
pub(crate) use sq8::Sq8;
pub(crate) use tombstones::Tombstones;

/// `x` rounded to the nearest integer, halves away from zero, as `f32::round` rounds (for
/// `|x| < 2^23`; beyond, saturated to `i32` as `as` does). `f32::round` and `f32::trunc` are
/// calls into the maths library on x86-64's baseline instruction set (SSE2 has no rounding
/// instruction), which encoding a query paid once per value; this is an add and a truncating
/// conversion. The added `0.5 - 2^-25` (the float just below one half) never carries a value
/// below a half up, and carries every half up.
#[inline]
pub(crate) fn round_half_away(x: f32) -> i32 {
    const JUST_BELOW_HALF: f32 = 0.5 - 1.0 / (1u32 << 25) as f32;
    (x + JUST_BELOW_HALF.copysign(x)) as i32
}

#[cfg(test)]
mod tests {
    use super::round_half_away;
    use rand::{Rng, SeedableRng};

    #[test]
    fn rounding_matches_the_maths_library() {
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(5);
        let edges = (-300..300).flat_map(|i| {
            let half = i as f32 + 0.5;
            [
                half,
                half.next_up(),
                half.next_down(),
                i as f32,
                (i as f32).next_down(),
            ]
        });
        let random = (0..2_000_000).map(|_| rng.random_range(-300.0f32..300.0));
        for x in edges
            .chain(random)
            .chain([0.0, -0.0, 4_194_303.5, -8_388_607.0])
        {
            assert_eq!(round_half_away(x) as f32, x.round(), "{x}");
        }
    }
}
