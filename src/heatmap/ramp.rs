//! The colour ramp: intensity in [0, 1] to a premultiplied-free RGBA colour whose
//! alpha grows with intensity, so the map stays readable where little happens.

/// Colour stops: (intensity, [r, g, b, a]). Dark blue and mostly transparent at the
/// low end, through cyan, green and yellow to red, nearly opaque at the top.
const STOPS: [(f32, [f32; 4]); 6] = [
    (0.0, [20.0, 40.0, 160.0, 0.0]),
    (0.15, [30.0, 110.0, 230.0, 110.0]),
    (0.35, [30.0, 210.0, 200.0, 160.0]),
    (0.55, [90.0, 230.0, 60.0, 190.0]),
    (0.75, [250.0, 220.0, 30.0, 215.0]),
    (1.0, [235.0, 30.0, 20.0, 235.0]),
];

/// Intensities below this are fully transparent: stray kernel tails should not tint the map.
pub const CUTOFF: f32 = 0.02;

/// A 256-entry lookup table over [`STOPS`].
#[derive(Debug, Clone)]
pub struct ColourRamp {
    lut: [[u8; 4]; 256],
}

impl Default for ColourRamp {
    fn default() -> Self {
        Self::new()
    }
}

impl ColourRamp {
    pub fn new() -> Self {
        let mut lut = [[0u8; 4]; 256];
        for (i, entry) in lut.iter_mut().enumerate() {
            *entry = interpolate(i as f32 / 255.0);
        }
        Self { lut }
    }

    /// The colour of intensity `t` (clamped to [0, 1]; NaN is transparent).
    pub fn colour(&self, t: f32) -> [u8; 4] {
        // NaN fails this comparison too, and is drawn transparent.
        if t.is_nan() || t < CUTOFF {
            return [0, 0, 0, 0];
        }
        self.lut[(t.min(1.0) * 255.0).round() as usize]
    }
}

fn interpolate(t: f32) -> [u8; 4] {
    if t < CUTOFF {
        return [0, 0, 0, 0];
    }
    let upper = STOPS
        .iter()
        .position(|(s, _)| *s >= t)
        .unwrap_or(STOPS.len() - 1)
        .max(1);
    let (t0, c0) = STOPS[upper - 1];
    let (t1, c1) = STOPS[upper];
    let f = ((t - t0) / (t1 - t0)).clamp(0.0, 1.0);
    let mut out = [0u8; 4];
    for i in 0..4 {
        out[i] = (c0[i] + (c1[i] - c0[i]) * f).round().clamp(0.0, 255.0) as u8;
    }
    out
}

/// Alpha-blends `colour` over an RGB pixel.
#[inline]
pub fn blend(dst: &mut [u8], colour: [u8; 4]) {
    let a = u32::from(colour[3]);
    if a == 0 {
        return;
    }
    let inv = 255 - a;
    for i in 0..3 {
        dst[i] = ((u32::from(colour[i]) * a + u32::from(dst[i]) * inv + 127) / 255) as u8;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ends_of_the_ramp() {
        let ramp = ColourRamp::new();
        assert_eq!(ramp.colour(0.0)[3], 0, "nothing is transparent");
        assert_eq!(ramp.colour(f32::NAN)[3], 0);
        let hot = ramp.colour(1.0);
        assert!(hot[0] > 200 && hot[1] < 60 && hot[3] > 200, "{hot:?}");
        assert_eq!(ramp.colour(7.0), hot, "clamped");
        let cool = ramp.colour(0.15);
        assert!(cool[2] > cool[0], "low end is blue: {cool:?}");
    }

    #[test]
    fn blend_opaque_and_transparent() {
        let mut px = [10u8, 20, 30];
        blend(&mut px, [200, 100, 0, 0]);
        assert_eq!(px, [10, 20, 30]);
        blend(&mut px, [200, 100, 0, 255]);
        assert_eq!(px, [200, 100, 0]);
    }

    proptest! {
        #[test]
        fn alpha_never_decreases(a in 0.0f32..1.0, b in 0.0f32..1.0) {
            let ramp = ColourRamp::new();
            let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
            prop_assert!(ramp.colour(lo)[3] <= ramp.colour(hi)[3]);
        }
    }
}
