#!/usr/bin/env python3
# CPU emulation of the index maps of kernels/cuda/rmsnorm.cu and kernels/cuda/embedding.cu
# (no GPU needed): threads, column groups, grid-stride loops, shared-memory layouts and the
# fixed summation orders, run on small sizes with small stand-ins for the grid caps, and
# compared with a direct f64 computation. Checks the mapping, not the CUDA code itself.
import math, random

rnd = random.Random(3)

def bit_width(v): return v.bit_length()

# ---------------------------------------------------------------- RMSNorm
def threads_for(groups, max_threads=256): return min(max(((groups + 31) // 32) * 32, 32), max_threads)

def backward_blocks(rows): return min(rows, min(max((rows + 7) // 8, 256), 1024))

def rmsnorm_check(rows, D, elem_bytes, max_threads, grid_cap):
  VEC = 16 // elem_bytes if D % (16 // elem_bytes) == 0 else 1
  groups = D // VEC
  bt = threads_for(groups, max_threads)
  x = [[rnd.uniform(-1, 1) for _ in range(D)] for _ in range(rows)]
  dy = [[rnd.uniform(-1, 1) for _ in range(D)] for _ in range(rows)]
  w = [rnd.uniform(0.5, 1.5) for _ in range(D)]
  eps = 1e-5
  # forward: blocks stride over rows; thread tx owns groups tx, tx+bt, ...
  grid = min(rows, grid_cap)
  inv = [None] * rows; y = [[None] * D for _ in range(rows)]
  for bx in range(grid):
    for r in range(bx, rows, grid):
      touched = []
      squares = [0.0] * bt
      for tx in range(bt):
        for g in range(tx, groups, bt):
          for k in range(VEC):
            j = g * VEC + k; touched.append(j); squares[tx] += x[r][j] ** 2
      assert sorted(touched) == list(range(D))
      assert inv[r] is None
      inv[r] = 1 / math.sqrt(sum(squares) / D + eps)
      for tx in range(bt):
        for g in range(tx, groups, bt):
          for k in range(VEC):
            j = g * VEC + k; y[r][j] = x[r][j] * inv[r] * w[j]
  ref_inv = [1 / math.sqrt(sum(v * v for v in row) / D + eps) for row in x]
  ef = max(abs(y[r][j] - x[r][j] * ref_inv[r] * w[j]) for r in range(rows) for j in range(D))
  # backward: column_acc[k·groups + g] owned by the thread of group g
  blocks = backward_blocks(rows)
  partial = [[None] * D for _ in range(blocks)]
  dx = [[None] * D for _ in range(rows)]
  for bx in range(blocks):
    acc = [None] * D; owner = {}
    for tx in range(bt):
      for g in range(tx, groups, bt):
        for k in range(VEC):
          slot = k * groups + g
          assert owner.setdefault(slot, tx) == tx and acc[slot] is None
          acc[slot] = 0.0
    assert None not in acc
    for r in range(bx, rows, blocks):
      dot = sum(dy[r][j] * w[j] * x[r][j] * inv[r] for j in range(D))
      mean = dot / D
      for tx in range(bt):
        for g in range(tx, groups, bt):
          for k in range(VEC):
            j = g * VEC + k; n = x[r][j] * inv[r]
            dx[r][j] = inv[r] * (dy[r][j] * w[j] - n * mean)
            slot = k * groups + g; assert owner[slot] == tx
            acc[slot] += dy[r][j] * n
    for tx in range(bt):
      for g in range(tx, groups, bt):
        for k in range(VEC): partial[bx][g * VEC + k] = acc[k * groups + g]
  # finish: (32, 8) blocks; thread row ty sums partial rows ty, ty+8, ...; then rows 0..7
  dweight = [None] * D
  for fb in range((D + 31) // 32):
    sums = [[0.0] * 32 for _ in range(8)]
    for ty in range(8):
      for tx in range(32):
        j = fb * 32 + tx
        if j < D:
          for b in range(ty, blocks, 8): sums[ty][tx] += partial[b][j]
    for tx in range(32):
      j = fb * 32 + tx
      if j < D:
        assert dweight[j] is None
        dweight[j] = sum(sums[ty][tx] for ty in range(8))
  ref_dw = [sum(dy[r][j] * x[r][j] * inv[r] for r in range(rows)) for j in range(D)]
  edw = max(abs(dweight[j] - ref_dw[j]) for j in range(D))
  edx = max(abs(dx[r][j] - inv[r] * (dy[r][j] * w[j] - x[r][j] * inv[r] *
                sum(dy[r][i] * w[i] * x[r][i] * inv[r] for i in range(D)) / D))
            for r in range(rows) for j in range(D))
  print(f"rmsnorm rows {rows} D {D} VEC {VEC} threads {bt} fwd grid {grid} bwd blocks {blocks}:",
        f"y {ef:.1e} dx {edx:.1e} dweight {edw:.1e}")
  assert ef < 1e-12 and edx < 1e-12 and edw < 1e-12

for rows, D, eb, mt, cap in ((5, 24, 2, 256, 3), (37, 40, 4, 32, 1 << 20), (3, 13, 2, 256, 2),
                             (300, 16, 2, 256, 7), (2100, 8, 4, 32, 1 << 20), (7, 400, 2, 32, 3)):
  rmsnorm_check(rows, D, eb, mt, cap)
for rows, want in ((1, 1), (100, 100), (256, 256), (1000, 256), (4096, 512), (8192, 1024), (10 ** 6, 1024)):
  assert backward_blocks(rows) == want, (rows, backward_blocks(rows))

# ---------------------------------------------------------------- embedding
def embedding_check(count, V, D, elem_bytes, grid_threads):
  VEC = 16 // elem_bytes if D % (16 // elem_bytes) == 0 else 1
  groups = D // VEC
  pool = list(range(V)) + [-1, -7, V, V + 1, 2 ** 31 - 1, V + 2 ** bit_width(V)]
  ids = [rnd.choice(pool) if rnd.random() < 0.2 else rnd.randrange(V) for _ in range(count)]
  table = [[rnd.uniform(-1, 1) for _ in range(D)] for _ in range(V)]
  dout = [[rnd.uniform(-1, 1) for _ in range(D)] for _ in range(count)]
  # forward gather: flat items (row, group), grid-stride with `grid_threads` threads
  out = [[None] * D for _ in range(count)]
  for t in range(grid_threads):
    for i in range(t, count * groups, grid_threads):
      r, g = divmod(i, groups)
      for k in range(VEC):
        j = g * VEC + k; assert out[r][j] is None
        out[r][j] = table[ids[r]][j] if 0 <= ids[r] < V else math.nan
  for r in range(count):
    for j in range(D):
      if 0 <= ids[r] < V: assert out[r][j] == table[ids[r]][j]
      else: assert math.isnan(out[r][j])
  # backward: keys in [0, V], sort on bits [0, bit_width(V)) (LSD radix = stable sort on
  # the masked key), flags, select, per-(run, group) items
  end_bit = bit_width(V); mask = (1 << end_bit) - 1
  keys = [i if 0 <= i < V else V for i in ids]
  assert all(k & mask == k for k in keys)
  order = sorted(range(count), key=lambda p: keys[p] & mask)  # stable
  sk = [keys[p] for p in order]; sp = order
  flags = [1 if i == 0 or sk[i - 1] != sk[i] else 0 for i in range(count)]
  starts = [i for i in range(count) if flags[i]]
  dt = [row[:] for row in table]; hits = {}
  runs = len(starts); items = runs * groups
  for t in range(grid_threads):
    for i in range(t, items, grid_threads):
      run, g = divmod(i, groups); start = starts[run]; key = sk[start]
      end = starts[run + 1] if run + 1 < runs else count
      if key == V: continue
      assert all(sk[s] == key for s in range(start, end))
      acc = [0.0] * VEC
      for s in range(start, end):
        for k in range(VEC): acc[k] += dout[sp[s]][g * VEC + k]
      for k in range(VEC):
        cell = (key, g * VEC + k); hits[cell] = hits.get(cell, 0) + 1
        dt[key][g * VEC + k] += acc[k]
  assert set(hits.values()) <= {1}, "a table element written twice"
  ref = [row[:] for row in table]
  for id in range(V):  # position order within each id
    for j in range(D):
      acc = 0.0
      for r in range(count):
        if ids[r] == id: acc += dout[r][j]
      ref[id][j] += acc
  err = max(abs(dt[v][j] - ref[v][j]) for v in range(V) for j in range(D))
  # the same positions summed in the same order: bit-identical
  print(f"embedding count {count} V {V} D {D} VEC {VEC} end_bit {end_bit} runs {len(starts)}: max err {err}")
  assert err == 0.0
  # Why invalid ids become V before the sort: sorting the raw ids on end_bit bits would
  # interleave an out-of-range id with a valid one of the same low bits and split the
  # valid id's run in two (two items adding to one row at once).
  raw = sorted(range(count), key=lambda p: (ids[p] & 0xFFFFFFFF) & mask)
  rk = [ids[p] for p in raw]
  runs = [rk[i] for i in range(count) if 0 <= rk[i] < V and (i == 0 or rk[i - 1] != rk[i])]
  return len(runs) != len(set(runs))

split = False
for count, V, D, eb, gt in ((50, 5, 16, 2, 7), (200, 9, 12, 4, 64), (97, 1, 3, 2, 5), (300, 33, 8, 2, 1000),
                            (64, 16, 4, 4, 3), (500, 17, 8, 4, 256)):
  split |= embedding_check(count, V, D, eb, gt)
print("raw ids sorted on end_bit bits would split a run:", split)
assert split
