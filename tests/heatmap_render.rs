//! Rendering without a database: kills at known world positions must show up at the
//! right pixels of the decoded PNG.

use etprox::db::heatmap::CellCount;
use etprox::heatmap::calibration::{CalibrationTable, WorldBox};
use etprox::heatmap::density::{GridSpec, Scale};
use etprox::heatmap::render::{Frame, MAX_PNG_BYTES};
use etprox::heatmap::{render_bins, Binned};

fn goldrush() -> WorldBox {
    CalibrationTable::builtin()
        .get("goldrush")
        .expect("goldrush")
        .world_box()
        .expect("box")
}

fn frame(world: WorldBox, size: u32, kills: u64) -> Frame {
    Frame {
        size,
        world,
        background: None,
        title: "goldrush".into(),
        filters: vec!["where players died".into(), "all time".into()],
        kill_count: kills,
        scale: Scale::Linear,
        notes: vec![],
    }
}

fn bin_points(spec: GridSpec, points: &[(f64, f64)]) -> Binned {
    let mut binned = Binned::new(spec);
    let cells: Vec<CellCount> = points
        .iter()
        .map(|&(x, y)| {
            let (col, row) = spec.cell_of(x, y);
            CellCount {
                col: col as i32,
                row: row as i32,
                kills: 1,
            }
        })
        .collect();
    binned.add_cells(&cells);
    binned
}

/// Centroid of the pixels that got the hottest colour (red dominant, little green),
/// leaving out the legend (which shows the whole ramp) by comparing with `baseline`.
fn hot_centroid(png: &[u8], baseline: &[u8]) -> Option<(f64, f64)> {
    let img = image::load_from_memory(png).expect("decode").to_rgb8();
    let base = image::load_from_memory(baseline).expect("decode").to_rgb8();
    let (mut sx, mut sy, mut n) = (0.0, 0.0, 0.0);
    for (x, y, p) in img.enumerate_pixels() {
        let [r, g, b] = p.0;
        if r > 180 && g < 90 && b < 90 && base.get_pixel(x, y) != p {
            sx += f64::from(x) + 0.5;
            sy += f64::from(y) + 0.5;
            n += 1.0;
        }
    }
    (n > 0.0).then(|| (sx / n, sy / n))
}

/// Centre of the pixel that gained the most red over green against `baseline`: the peak
/// of the heat, whatever colour it reached.
fn reddest_pixel(png: &[u8], baseline: &[u8]) -> (f64, f64) {
    let img = image::load_from_memory(png).expect("decode").to_rgb8();
    let base = image::load_from_memory(baseline).expect("decode").to_rgb8();
    let mut best = (0.0, 0.0, i32::MIN);
    for (x, y, p) in img.enumerate_pixels() {
        let b = base.get_pixel(x, y);
        let gain = (i32::from(p[0]) - i32::from(p[1])) - (i32::from(b[0]) - i32::from(b[1]));
        if gain > best.2 {
            best = (f64::from(x) + 0.5, f64::from(y) + 0.5, gain);
        }
    }
    (best.0, best.1)
}

/// The same frame with no kills: everything that is not heat.
fn baseline(world: WorldBox, size: u32, kills: u64) -> Vec<u8> {
    let binned = Binned::new(GridSpec::for_output(world, size));
    render_bins(
        &binned,
        frame(world, size, kills),
        80.0,
        99.0,
        Scale::Linear,
    )
    .expect("render")
    .0
}

fn dump(name: &str, png: &[u8]) {
    if let Ok(dir) = std::env::var("HEATMAP_DUMP_DIR") {
        let _ = std::fs::write(std::path::Path::new(&dir).join(name), png);
    }
}

#[test]
fn a_kill_lands_on_its_pixel() {
    let world = goldrush();
    for size in [512u32, 1024] {
        for &(x, y) in &[
            (0.0, 0.0),
            (-2000.0, -1000.0),
            (1500.0, 2100.0),
            (2900.0, -1500.0),
        ] {
            let spec = GridSpec::for_output(world, size);
            // A few kills on the same spot, like a real hotspot.
            let binned = bin_points(spec, &[(x, y); 5]);
            let (png, _) = render_bins(&binned, frame(world, size, 5), 80.0, 99.0, Scale::Linear)
                .expect("render");
            dump(&format!("pixel_{size}_{x}_{y}.png"), &png);
            let (ex, ey) = world.to_pixel(x, y, size, size);
            let (hx, hy) =
                hot_centroid(&png, &baseline(world, size, 5)).expect("a hot spot is drawn");
            // One grid cell is 4 px: the kill is binned to its cell's centre.
            let tolerance = f64::from(GridSpec::PIXELS_PER_CELL) / 2.0 + 1.0;
            assert!(
                (hx - ex).abs() <= tolerance && (hy - ey).abs() <= tolerance,
                "size {size}: kill at ({x}, {y}) expected near pixel ({ex:.1}, {ey:.1}), hot spot at ({hx:.1}, {hy:.1})"
            );
        }
    }
}

#[test]
fn north_is_up_and_east_is_right() {
    let world = goldrush();
    let spec = GridSpec::for_output(world, 512);
    // Kills in the north-east quadrant only.
    let points: Vec<(f64, f64)> = (0..50)
        .map(|i| (1500.0 + f64::from(i) * 10.0, 1800.0))
        .collect();
    let binned = bin_points(spec, &points);
    let (png, _) =
        render_bins(&binned, frame(world, 512, 50), 80.0, 99.0, Scale::Linear).expect("render");
    let (hx, hy) = hot_centroid(&png, &baseline(world, 512, 50)).expect("hot");
    assert!(
        hx > 256.0 && hy < 256.0,
        "north-east is top-right, got ({hx}, {hy})"
    );
}

#[test]
fn busy_1024_heatmap_stays_under_a_mebibyte() {
    let world = goldrush();
    let spec = GridSpec::for_output(world, 1024);
    // 100,000 kills scattered in clusters all over the map: a worst case for PNG size.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let centres: Vec<(f64, f64)> = (0..60)
        .map(|_| world.from_uv(0.05 + 0.9 * next(), 0.05 + 0.9 * next()))
        .collect();
    let points: Vec<(f64, f64)> = (0..100_000)
        .map(|i| {
            let (cx, cy) = centres[i % centres.len()];
            (cx + (next() - 0.5) * 900.0, cy + (next() - 0.5) * 900.0)
        })
        .collect();
    let binned = bin_points(spec, &points);
    let (png, reference) =
        render_bins(&binned, frame(world, 1024, 100_000), 80.0, 99.0, Scale::Log).expect("render");
    dump("busy_1024.png", &png);
    assert!(reference > 0.0);
    assert!(png.len() < MAX_PNG_BYTES, "{} bytes", png.len());
}

#[test]
fn empty_heatmap_still_renders() {
    let world = goldrush();
    let spec = GridSpec::for_output(world, 256);
    let binned = Binned::new(spec);
    let mut f = frame(world, 256, 0);
    f.notes.push("no kills match these filters".into());
    let (png, reference) = render_bins(&binned, f, 80.0, 99.0, Scale::Linear).expect("render");
    assert_eq!(reference, 0.0);
    assert!(
        hot_centroid(&png, &baseline(world, 256, 0)).is_none(),
        "no heat drawn"
    );
    let img = image::load_from_memory(&png).expect("decode");
    assert_eq!(img.width(), 256);
}

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config::with_cases(12))]

    /// Anywhere in the middle of the map (away from the text panels), the hot spot is
    /// where the transform says.
    #[test]
    fn hot_spot_follows_the_transform(u in 0.25f64..0.75, v in 0.2f64..0.7) {
        let world = goldrush();
        let size = 256;
        let (x, y) = world.from_uv(u, v);
        let spec = GridSpec::for_output(world, size);
        let binned = bin_points(spec, &[(x, y); 3]);
        let (png, _) = render_bins(&binned, frame(world, size, 3), 80.0, 99.0, Scale::Linear)
            .expect("render");
        let (hx, hy) = reddest_pixel(&png, &baseline(world, size, 3));
        let (ex, ey) = world.to_pixel(x, y, size, size);
        let tolerance = f64::from(GridSpec::PIXELS_PER_CELL) / 2.0 + 1.0;
        proptest::prop_assert!(
            (hx - ex).abs() <= tolerance && (hy - ey).abs() <= tolerance,
            "expected ({ex:.1}, {ey:.1}), got ({hx:.1}, {hy:.1})"
        );
    }
}
