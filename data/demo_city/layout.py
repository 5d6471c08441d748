"""The demo city's street layout: a perturbed grid of road lines and the fine mesh of unit grids
between them, all in the city's metric CRS (metres).

The district is a structured quadrilateral mesh. Road lines run north-south (index ``i``) and
east-west (index ``j``); their crossings are jittered so roads bend a little and the outline is
not a perfect rectangle. Each block between four crossings is cut into ``a_i x b_j`` unit grids by
bilinear interpolation. Every mesh node is computed exactly once, so neighbouring grids share
their vertices bit for bit and the grids tile the district without gaps or slivers, in metres
and after reprojection alike.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Mean unit grid (单元网格) area the layout aims at, square metres (CJ/T 213: about 10,000 m²).
GRID_TARGET_M2 = 10_000.0
CELL_SIDE_M = 100.0
LINE_SPACING_M = (190.0, 330.0)
MAIN_EVERY = 4  # every 4th line is a main road (主干道), every 2nd a secondary road (次干道)

MAIN, SECONDARY, BRANCH, ALLEY = "main", "secondary", "branch", "alley"
RIVER = "river"  # one east-west line is a small river (河), not a road


@dataclass
class Layout:
    """The road lines and the fine mesh of one generated district.

    ``nodes[u, v]`` is the fine mesh node in metres; fine column ``u`` lies in road column
    ``col_of_u[u]``. Road line ``i`` (north-south) is fine column ``line_u[i]``; road line ``j``
    (east-west) is fine row ``line_v[j]``.
    """

    origin: tuple[float, float]
    nodes: np.ndarray  # (U+1, V+1, 2)
    line_u: np.ndarray  # (nx+1,) fine u index of each north-south road line
    line_v: np.ndarray  # (ny+1,)
    class_x: list[str]  # class of each north-south road line
    class_y: list[str]
    old_town: tuple[
        int, int, int, int
    ]  # block index box (i0, i1, j0, j1) whose inner lines are alleys

    @property
    def n_blocks_x(self) -> int:
        return len(self.line_u) - 1

    @property
    def n_blocks_y(self) -> int:
        return len(self.line_v) - 1

    @property
    def shape(self) -> tuple[int, int]:
        """Fine cells along x and y."""
        return self.nodes.shape[0] - 1, self.nodes.shape[1] - 1

    def cell_ring(self, u: int, v: int) -> np.ndarray:
        """The closed counter-clockwise ring of fine cell (u, v)."""
        n = self.nodes
        return np.array([n[u, v], n[u + 1, v], n[u + 1, v + 1], n[u, v + 1], n[u, v]])

    def block_cells(self, i: int, j: int) -> tuple[range, range]:
        """The fine u and v ranges of block (i, j)."""
        return range(self.line_u[i], self.line_u[i + 1]), range(self.line_v[j], self.line_v[j + 1])

    def in_old_town(self, i: int, j: int) -> bool:
        i0, i1, j0, j1 = self.old_town
        return i0 <= i < i1 and j0 <= j < j1


def line_positions(rng: np.random.Generator, extent: float) -> np.ndarray:
    """Road line offsets from 0 to `extent` with realistic, varied spacing."""
    spacings: list[float] = []
    while sum(spacings) < extent:
        spacings.append(float(rng.uniform(*LINE_SPACING_M)))
    if len(spacings) > 1 and sum(spacings) - extent > spacings[-1] / 2:
        spacings.pop()
    arr = np.array(spacings)
    arr *= extent / arr.sum()
    return np.concatenate([[0.0], np.cumsum(arr)])


def line_classes(n_lines: int) -> list[str]:
    """Class of each parallel road line: both ends and every 4th are main, every 2nd secondary."""
    classes = []
    for k in range(n_lines):
        if k in (0, n_lines - 1) or k % MAIN_EVERY == 0:
            classes.append(MAIN)
        elif k % 2 == 0:
            classes.append(SECONDARY)
        else:
            classes.append(BRANCH)
    return classes


def with_river(classes: list[str]) -> list[str]:
    """The classes with the branch line nearest a third of the way along turned into a river."""
    branches = [k for k, c in enumerate(classes) if c == BRANCH]
    if branches:
        target = (len(classes) - 1) / 3
        river = min(branches, key=lambda k: (abs(k - target), k))
        classes = classes[:river] + [RIVER] + classes[river + 1 :]
    return classes


def _smooth_offsets(rng: np.random.Generator, n_lines: int, n_nodes: int, amp: float) -> np.ndarray:
    """Per-line gentle bends (a low-frequency sine) plus small per-node noise, in metres."""
    t = np.linspace(0.0, 1.0, n_nodes)
    phase = rng.uniform(0, 2 * np.pi, size=(n_lines, 1))
    freq = rng.uniform(0.5, 1.5, size=(n_lines, 1))
    bend = rng.uniform(0.3, 1.0, size=(n_lines, 1)) * amp * np.sin(2 * np.pi * freq * t + phase)
    noise = rng.normal(0.0, amp * 0.25, size=(n_lines, n_nodes))
    return bend + np.clip(noise, -amp * 0.5, amp * 0.5)


def build_layout(rng: np.random.Generator, area_m2: float, origin: tuple[float, float]) -> Layout:
    """Gives the road lines and fine mesh of a district of about `area_m2`, centred on `origin`."""
    width = float(np.sqrt(area_m2 * 1.25))
    height = area_m2 / width
    xs = line_positions(rng, width) - width / 2 + origin[0]
    ys = line_positions(rng, height) - height / 2 + origin[1]
    nx, ny = len(xs) - 1, len(ys) - 1

    # Crossings: jitter each north-south line along x and each east-west line along y.
    amp = 14.0
    px = xs[:, None] + _smooth_offsets(rng, nx + 1, ny + 1, amp)
    py = ys[None, :] + _smooth_offsets(rng, ny + 1, nx + 1, amp).T
    crossings = np.stack([px, py], axis=-1)  # (nx+1, ny+1, 2)

    a = np.maximum(1, np.rint(np.diff(xs) / CELL_SIDE_M)).astype(int)
    b = np.maximum(1, np.rint(np.diff(ys) / CELL_SIDE_M)).astype(int)
    line_u = np.concatenate([[0], np.cumsum(a)])
    line_v = np.concatenate([[0], np.cumsum(b)])

    # Fine node parameters: block column and fraction along it, each node exactly once.
    ui = np.concatenate([np.repeat(np.arange(nx), a), [nx - 1]])
    us = np.concatenate([np.concatenate([np.arange(k) / k for k in a]), [1.0]])
    vj = np.concatenate([np.repeat(np.arange(ny), b), [ny - 1]])
    vt = np.concatenate([np.concatenate([np.arange(k) / k for k in b]), [1.0]])
    s = us[:, None, None]
    t = vt[None, :, None]
    c00 = crossings[ui][:, vj]
    c10 = crossings[ui + 1][:, vj]
    c01 = crossings[ui][:, vj + 1]
    c11 = crossings[ui + 1][:, vj + 1]
    nodes = (1 - s) * (1 - t) * c00 + s * (1 - t) * c10 + s * t * c11 + (1 - s) * t * c01

    # An old town (老城区) quarter of narrow alleys (胡同) near one corner.
    oi = max(1, nx // 5)
    oj = max(1, ny // 5)
    old_town = (0, min(nx, oi), ny - min(ny, oj), ny)
    return Layout(
        origin=origin,
        nodes=nodes,
        line_u=line_u,
        line_v=line_v,
        class_x=line_classes(nx + 1),
        class_y=with_river(line_classes(ny + 1)),
        old_town=old_town,
    )
