//! Renders the README example images (`docs/img/`) from synthetic kills laid along
//! corridors and chokepoints, without a database:
//! `cargo run --release --example heatmap_docs -- docs/img`.

use std::path::PathBuf;

use etprox::db::heatmap::CellCount;
use etprox::heatmap::calibration::CalibrationTable;
use etprox::heatmap::density::{GridSpec, Scale};
use etprox::heatmap::render::Frame;
use etprox::heatmap::{render_bins, Binned};

/// Routes across the map (world units) and how busy each is.
const ROUTES: &[(&[(f64, f64)], f64)] = &[
    (
        &[
            (-3600.0, 3600.0),
            (-2400.0, 2800.0),
            (-1200.0, 2900.0),
            (200.0, 2200.0),
        ],
        1.0,
    ),
    (
        &[
            (200.0, 2200.0),
            (600.0, 900.0),
            (300.0, -400.0),
            (1400.0, -1500.0),
        ],
        1.6,
    ),
    (
        &[(-2600.0, -2800.0), (-1400.0, -1600.0), (300.0, -400.0)],
        0.8,
    ),
    (
        &[
            (1400.0, -1500.0),
            (2600.0, -1200.0),
            (3100.0, 200.0),
            (2400.0, 1800.0),
        ],
        0.7,
    ),
    (
        &[(-1200.0, 2900.0), (-1500.0, 800.0), (-1400.0, -1600.0)],
        0.5,
    ),
];

/// Chokepoints: (x, y, spread, weight).
const HOTSPOTS: &[(f64, f64, f64, f64)] = &[
    (200.0, 2200.0, 140.0, 3.0),
    (600.0, 900.0, 110.0, 2.2),
    (1400.0, -1500.0, 160.0, 2.5),
    (-1400.0, -1600.0, 120.0, 1.2),
    (2600.0, -1200.0, 90.0, 0.8),
];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Roughly normal (sum of four uniforms), unit variance.
    fn normal(&mut self) -> f64 {
        (self.next() + self.next() + self.next() + self.next() - 2.0) * 1.732
    }
}

fn kills(n: usize, seed: u64) -> Vec<(f64, f64)> {
    let mut rng = Rng(seed);
    let route_total: f64 = ROUTES.iter().map(|(_, w)| w).sum();
    let hot_total: f64 = HOTSPOTS.iter().map(|h| h.3).sum();
    (0..n)
        .map(|_| {
            if rng.next() < 0.45 {
                let mut pick = rng.next() * hot_total;
                let h = HOTSPOTS
                    .iter()
                    .find(|h| {
                        pick -= h.3;
                        pick <= 0.0
                    })
                    .unwrap_or(&HOTSPOTS[0]);
                (h.0 + rng.normal() * h.2, h.1 + rng.normal() * h.2)
            } else {
                let mut pick = rng.next() * route_total;
                let (route, _) = ROUTES
                    .iter()
                    .find(|(_, w)| {
                        pick -= w;
                        pick <= 0.0
                    })
                    .unwrap_or(&ROUTES[0]);
                let seg = ((rng.next() * (route.len() - 1) as f64) as usize).min(route.len() - 2);
                let (a, b) = (route[seg], route[seg + 1]);
                let t = rng.next();
                (
                    a.0 + (b.0 - a.0) * t + rng.normal() * 70.0,
                    a.1 + (b.1 - a.1) * t + rng.normal() * 70.0,
                )
            }
        })
        .collect()
}

fn main() -> anyhow::Result<()> {
    let out = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "docs/img".into()));
    std::fs::create_dir_all(&out)?;
    let world = CalibrationTable::builtin()
        .get("goldrush")
        .ok_or_else(|| anyhow::anyhow!("goldrush missing from the shipped table"))?
        .world_box()?;
    let examples = [
        (
            "heatmap-goldrush-deaths.png",
            kills(40_000, 7),
            Scale::Linear,
            vec![
                "where players died (victim positions)".to_string(),
                "all time".to_string(),
            ],
        ),
        (
            "heatmap-goldrush-axis-kills-log.png",
            kills(6_000, 11),
            Scale::Log,
            vec![
                "where kills were made (killer positions)".to_string(),
                "last 7 days · team axis".to_string(),
            ],
        ),
    ];
    for (name, points, scale, filters) in examples {
        let spec = GridSpec::for_output(world, 512);
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
        let mut binned = Binned::new(spec);
        binned.add_cells(&cells);
        let frame = Frame {
            size: 512,
            world,
            background: None,
            title: "goldrush (synthetic kills)".into(),
            filters,
            kill_count: binned.inside.round() as u64,
            scale,
            notes: vec![],
        };
        let (png, _) = render_bins(&binned, frame, 80.0, 99.0, scale)?;
        let path = out.join(name);
        std::fs::write(&path, &png)?;
        println!("wrote {} ({} bytes)", path.display(), png.len());
    }
    Ok(())
}
