//! Cosine distance `1 - cos(a, b)`: rows and queries are scaled to unit length once, and then
//! ranked by their squared Euclidean distance, which for unit vectors is `2 - 2 cos(a, b)`.

use crate::error::{Error, Result};
use crate::storage::Points;

/// Scales every row to unit Euclidean norm (computed in `f64`).
pub(super) fn normalize(points: &mut Points) -> Result<()> {
    for (row, values) in points.rows_mut().enumerate() {
        let norm = values
            .iter()
            .map(|v| f64::from(*v).powi(2))
            .sum::<f64>()
            .sqrt();
        if norm == 0.0 || !norm.is_finite() {
            return Err(Error::ZeroNorm { row });
        }
        for v in values {
            *v = (f64::from(*v) / norm) as f32;
        }
    }
    Ok(())
}

/// The cosine distance of two unit vectors whose squared Euclidean distance is `ranking`.
#[inline]
pub(super) fn finish(ranking: f32) -> f32 {
    (0.5 * ranking).max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metric::squared_euclidean;

    #[test]
    fn normalize_gives_unit_rows_and_rejects_zero_rows() {
        let mut p = Points::new(vec![3., 4., 0., 2.], 2, None).unwrap();
        normalize(&mut p).unwrap();
        assert_eq!(p.row(0), &[0.6, 0.8]);
        assert_eq!(p.row(1), &[0., 1.]);
        let mut z = Points::new(vec![1., 1., 0., 0.], 2, None).unwrap();
        assert_eq!(normalize(&mut z).unwrap_err(), Error::ZeroNorm { row: 1 });
    }

    #[test]
    fn cosine_reports_one_minus_cosine_on_unit_vectors() {
        let a = [1.0f32, 0.0];
        let b = [0.0f32, 1.0];
        let c = [-1.0f32, 0.0];
        assert!((finish(squared_euclidean(&a, &b)) - 1.0).abs() < 1e-6);
        assert!((finish(squared_euclidean(&a, &c)) - 2.0).abs() < 1e-6);
        assert_eq!(finish(squared_euclidean(&a, &a)), 0.0);
    }
}
