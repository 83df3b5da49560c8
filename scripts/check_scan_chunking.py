#!/usr/bin/env python3
# Emulates, in plain Python (f64), the chunked algorithm of kernels/cuda/scan.cu (reduce ->
# carry scan -> rescan, forward and backward, chunk length 4 here) and compares it with a
# transcription of the CPU reference kernels/cpu/scan.cpp, causal and bidirectional with
# random resets. It checks the decomposition, not the CUDA code itself (no GPU needed).
# Prints the largest absolute differences; both should be ~1e-16. The end of the file
# emulates the launch structure itself (see kernel_emulation).
import math, random
random.seed(1)
def sig(x): return 1/(1+math.exp(-x))
def gelu(x): return 0.5*x*(1+math.erf(x/math.sqrt(2)))
def gelud(x): return 0.5*(1+math.erf(x/math.sqrt(2))) + x*math.exp(-0.5*x*x)/math.sqrt(2*math.pi)
B,T,N,L=2,23,6,4
for bidir in (False, True):
  proj=[[[random.uniform(-2,2) for _ in range(4*N)] for _ in range(T)] for _ in range(B)]
  reset=[[ (1 if t==0 else 0) | random.choice([0,0,0,1,2,3]) for t in range(T)] for _ in range(B)]
  dy=[[[random.uniform(-1,1) for _ in range(N)] for _ in range(T)] for _ in range(B)]
  def rev(c): return bidir and c>=N//2
  def time_at(r,s): return T-1-s if r else s
  def blocked(b,r,t):
    if not r: return reset[b][t]&1!=0
    return t==T-1 or reset[b][t+1]&1!=0 or reset[b][t]&2!=0
  # reference (CPU code)
  yref=[[[0]*N for _ in range(T)] for _ in range(B)]; dref=[[[0]*(4*N) for _ in range(T)] for _ in range(B)]
  for b in range(B):
    for c in range(N):
      r=rev(c); h=0; st=[0]*T
      for s in range(T):
        t=time_at(r,s); p=proj[b][t]; f=0 if blocked(b,r,t) else sig(p[N+c])
        h=f*h+sig(p[c])*p[2*N+c]; st[t]=h; yref[b][t][c]=gelu(p[3*N+c])*h
      carry=0
      for s in range(T-1,-1,-1):
        t=time_at(r,s); p=proj[b][t]; h=st[t]; hin=st[time_at(r,s-1)] if s>0 else 0
        g=dy[b][t][c]; dh=g*gelu(p[3*N+c])+carry; si=sig(p[c]); bl=blocked(b,r,t); f=0 if bl else sig(p[N+c])
        d=dref[b][t]; d[c]=dh*p[2*N+c]*si*(1-si); d[N+c]=0 if bl else dh*hin*f*(1-f); d[2*N+c]=dh*si; d[3*N+c]=g*h*gelud(p[3*N+c]); carry=f*dh
  # kernel emulation
  C=(T+L-1)//L
  y=[[[None]*N for _ in range(T)] for _ in range(B)]; dp=[[[None]*(4*N) for _ in range(T)] for _ in range(B)]
  for b in range(B):
    for c in range(N):
      r=rev(c)
      A=[0]*C; Bv=[0]*C
      for k in range(C):
        s0=k*L; s1=min(s0+L,T); a=1; bb=0
        for s in range(s0,s1):
          t=time_at(r,s); p=proj[b][t]; f=0 if blocked(b,r,t) else sig(p[N+c]); bb=f*bb+sig(p[c])*p[2*N+c]; a*=f
        A[k]=a; Bv[k]=bb
      saved=[0]*C; carry=0
      for k in range(C): saved[k]=carry; carry=A[k]*carry+Bv[k]
      for k in range(C):
        s0=k*L; s1=min(s0+L,T); h=saved[k]
        for s in range(s0,s1):
          t=time_at(r,s); p=proj[b][t]; f=0 if blocked(b,r,t) else sig(p[N+c]); h=f*h+sig(p[c])*p[2*N+c]; y[b][t][c]=gelu(p[3*N+c])*h
      # backward
      for k in range(C):
        s0=k*L; s1=min(s0+L,T); a=1; bb=0
        for s in range(s1-1,s0-1,-1):
          t=time_at(r,s); p=proj[b][t]; f=0 if blocked(b,r,t) else sig(p[N+c]); bb=f*(bb+dy[b][t][c]*gelu(p[3*N+c])); a*=f
        A[k]=a; Bv[k]=bb
      cin=[0]*C; carry=0
      for k in range(C-1,-1,-1): cin[k]=carry; carry=A[k]*carry+Bv[k]
      for k in range(C):
        s0=k*L; s1=min(s0+L,T); h=saved[k]; hs=saved[k]; states=[]
        for s in range(s0,s1):
          t=time_at(r,s); p=proj[b][t]; f=0 if blocked(b,r,t) else sig(p[N+c]); h=f*h+sig(p[c])*p[2*N+c]; states.append(h)
        carry=cin[k]
        for s in range(s1-1,s0-1,-1):
          t=time_at(r,s); p=proj[b][t]; loc=s-s0; hk=states[loc]; hin=states[loc-1] if loc>0 else hs
          g=dy[b][t][c]; dh=g*gelu(p[3*N+c])+carry; si=sig(p[c]); bl=blocked(b,r,t); f=0 if bl else sig(p[N+c])
          d=dp[b][t]; d[c]=dh*p[2*N+c]*si*(1-si); d[N+c]=0 if bl else dh*hin*f*(1-f); d[2*N+c]=dh*si; d[3*N+c]=g*hk*gelud(p[3*N+c]); carry=f*dh
  ey=max(abs(y[b][t][c]-yref[b][t][c]) for b in range(B) for t in range(T) for c in range(N))
  ed=max(abs(dp[b][t][c]-dref[b][t][c]) for b in range(B) for t in range(T) for c in range(4*N))
  print("bidir" if bidir else "causal", "max |y err|", ey, "max |dproj err|", ed)
  assert ey < 1e-12 and ed < 1e-12

# kernels/scan.h's rules for proj [B][T][4N] and reset [B][T]: the time of a lane's scan
# step, whether its forget gate is forced to 0, and (forget gate, input term) of a step.
def lane_rules(proj, reset):
  T, N = len(proj[0]), len(proj[0][0]) // 4
  def time_at(r,s): return T-1-s if r else s
  def blocked(b,r,t):
    if not r: return reset[b][t]&1!=0
    return t==T-1 or reset[b][t+1]&1!=0 or reset[b][t]&2!=0
  def gate(b,r,t,c):
    p=proj[b][t]; f=0 if blocked(b,r,t) else sig(p[N+c]); return f, sig(p[c])*p[2*N+c]
  return time_at, blocked, gate

# The sequential scan per lane (the CPU reference's reading), as dicts keyed (b, t, c):
# y, and dproj with c over the 4N gate columns.
def sequential_reference(proj, reset, dy, bidir):
  B, T, N = len(proj), len(proj[0]), len(proj[0][0]) // 4
  time_at, blocked, gate = lane_rules(proj, reset)
  yref={}; dref={}
  for b in range(B):
    for c in range(N):
      r=bidir and c>=N//2; h=0; st={}
      for s in range(T):
        t=time_at(r,s); f,u=gate(b,r,t,c); h=f*h+u; st[s]=h; yref[b,t,c]=gelu(proj[b][t][3*N+c])*h
      carry=0
      for s in range(T-1,-1,-1):
        t=time_at(r,s); p=proj[b][t]; hin=st[s-1] if s>0 else 0; g=dy[b][t][c]
        dh=g*gelu(p[3*N+c])+carry; si=sig(p[c]); bl=blocked(b,r,t); f=0 if bl else sig(p[N+c])
        dref[b,t,c]=dh*p[2*N+c]*si*(1-si); dref[b,t,N+c]=0 if bl else dh*hin*f*(1-f)
        dref[b,t,2*N+c]=dh*si; dref[b,t,3*N+c]=g*st[s]*gelud(p[3*N+c]); carry=f*dh
  return yref, dref

# The launch structure of kernels/cuda/scan.cu itself: threads of `bt` per block, each
# owning VEC adjacent channels (first_channel), blockIdx.y striding over the B·C (batch
# row, chunk) pairs with a capped grid.y (lane_at), and the backward rescan's shared
# states laid out as states[local][slot + k·bt] with slot = threadIdx.x. Small sizes stand
# in for 64 threads and the 65535 cap; checks that every (row, chunk, channel) is visited
# exactly once, that no two threads share a shared-memory slot, and the results.
def kernel_emulation(bidir, VEC, bt, grid_y, B=2, T=23, N=8, L=4):
  rnd = random.Random(7)
  proj=[[[rnd.uniform(-2,2) for _ in range(4*N)] for _ in range(T)] for _ in range(B)]
  reset=[[ (1 if t==0 else 0) | rnd.choice([0,0,0,0,0,0,1,2,3]) for t in range(T)] for _ in range(B)]
  dy=[[[rnd.uniform(-1,1) for _ in range(N)] for _ in range(T)] for _ in range(B)]
  assert N % VEC == 0 and (not bidir or (N//2) % VEC == 0)
  C=(T+L-1)//L
  time_at, blocked, gate = lane_rules(proj, reset)
  yref, dref = sequential_reference(proj, reset, dy, bidir)
  groups=N//VEC; grid_x=(groups+bt-1)//bt; gy=min(B*C, grid_y)
  def threads():  # (blockIdx.x, blockIdx.y, threadIdx.x, c0, bc) in launch order
    for bx in range(grid_x):
      for by in range(gy):
        for tx in range(bt):
          group=bx*bt+tx
          if group >= groups: continue  # first_channel() == -1
          bc=by
          while bc < B*C:
            yield bx, by, tx, group*VEC, bc
            bc+=gy
  def lane(c0, bc):
    b, chunk = divmod(bc, C); s0=chunk*L; return b, chunk, bidir and c0>=N//2, s0, min(s0+L,T)
  # forward reduce, carries, rescan
  A={}; Bv={}; seen={}
  for bx,by,tx,c0,bc in threads():
    b,chunk,r,s0,s1=lane(c0,bc)
    for k in range(VEC):
      a=1; bb=0
      for s in range(s0,s1):
        f,u=gate(b,r,time_at(r,s),c0+k); bb=f*bb+u; a*=f
      key=(b,chunk,c0+k); seen[key]=seen.get(key,0)+1; A[key]=a; Bv[key]=bb
  assert sorted(seen)==sorted((b,k,c) for b in range(B) for k in range(C) for c in range(N))
  assert set(seen.values())=={1}
  saved={}
  for b in range(B):
    for c in range(N):
      carry=0
      for k in range(C): saved[b,k,c]=carry; carry=A[b,k,c]*carry+Bv[b,k,c]
  y={}
  for bx,by,tx,c0,bc in threads():
    b,chunk,r,s0,s1=lane(c0,bc)
    for k in range(VEC):
      h=saved[b,chunk,c0+k]
      for s in range(s0,s1):
        t=time_at(r,s); f,u=gate(b,r,t,c0+k); h=f*h+u; y[b,t,c0+k]=gelu(proj[b][t][3*N+c0+k])*h
  # backward reduce, carries, rescan with the shared layout
  for bx,by,tx,c0,bc in threads():
    b,chunk,r,s0,s1=lane(c0,bc)
    for k in range(VEC):
      a=1; bb=0
      for s in range(s1-1,s0-1,-1):
        t=time_at(r,s); f,_=gate(b,r,t,c0+k); bb=f*(bb+dy[b][t][c0+k]*gelu(proj[b][t][3*N+c0+k])); a*=f
      A[b,chunk,c0+k]=a; Bv[b,chunk,c0+k]=bb
  cin={}
  for b in range(B):
    for c in range(N):
      carry=0
      for k in range(C-1,-1,-1): cin[b,k,c]=carry; carry=A[b,k,c]*carry+Bv[b,k,c]
  shared={}  # per block (bx, by): L rows of VEC·bt floats
  owner={}
  d={}
  for bx,by,tx,c0,bc in threads():
    b,chunk,r,s0,s1=lane(c0,bc)
    states=shared.setdefault((bx,by),[[None]*(VEC*bt) for _ in range(L)])
    slot=tx
    for k in range(VEC):
      col=slot+k*bt
      assert owner.setdefault((bx,by,col),(tx,k))==(tx,k), "two threads share a slot"
    h=[saved[b,chunk,c0+k] for k in range(VEC)]; hs=list(h)
    for s in range(s0,s1):
      t=time_at(r,s)
      for k in range(VEC):
        f,u=gate(b,r,t,c0+k); h[k]=f*h[k]+u; states[s-s0][slot+k*bt]=h[k]
    carry=[cin[b,chunk,c0+k] for k in range(VEC)]
    for s in range(s1-1,s0-1,-1):
      t=time_at(r,s); p=proj[b][t]; loc=s-s0; bl=blocked(b,r,t)
      for k in range(VEC):
        c=c0+k; hk=states[loc][slot+k*bt]; hin=states[loc-1][slot+k*bt] if loc>0 else hs[k]
        g=dy[b][t][c]; dh=g*gelu(p[3*N+c])+carry[k]; si=sig(p[c]); f=0 if bl else sig(p[N+c])
        d[b,t,c]=dh*p[2*N+c]*si*(1-si); d[b,t,N+c]=0 if bl else dh*hin*f*(1-f)
        d[b,t,2*N+c]=dh*si; d[b,t,3*N+c]=g*hk*gelud(p[3*N+c]); carry[k]=f*dh
  assert set(y)==set(yref) and set(d)==set(dref)
  ey=max(abs(y[k]-yref[k]) for k in yref); ed=max(abs(d[k]-dref[k]) for k in dref)
  print("kernel layout", "bidir" if bidir else "causal", "VEC", VEC, "threads", bt, "grid.y", gy,
        "max |y err|", ey, "max |dproj err|", ed)
  assert ey < 1e-12 and ed < 1e-12

for bidir in (False, True):
  for VEC, bt, grid_y in ((1, 4, 5), (2, 2, 3), (4, 1, 65535), (4, 2, 1)):
    if bidir and (8//2) % VEC: continue
    kernel_emulation(bidir, VEC, bt, grid_y)

# Shared-memory banks of the backward rescan's states (32 banks of 4-byte words): the
# distinct banks a warp's 32 threads hit for one (step, k), old layout slot·VEC + k and
# new k·64 + slot. 32 distinct banks = conflict-free.
for VEC in (1, 4, 8):
  old=min(len({(tx*VEC+k)%32 for tx in range(w*32, w*32+32)}) for w in range(2) for k in range(VEC))
  new=min(len({(k*64+tx)%32 for tx in range(w*32, w*32+32)}) for w in range(2) for k in range(VEC))
  print("states banks per warp access, VEC", VEC, ": old", old, "new", new)
  assert new == 32

# The one-pass kernel (kernels/cuda/scan_one_pass.cu): tiles of (chunk, batch row, lane)
# launched chunk-major in scan order (from the end for the backward); each lane publishes
# its chunk's aggregate, then looks back over the chunks before it (in its scan order)
# until one whose inclusive state is published, and applies the aggregates in between in
# chunk order. Here a predecessor's inclusive state is seen only by chance (as if read
# before it was published), so look-backs stop at every distance; the entering states must
# equal the sequential chain's bit for bit, and y and dproj the reference. Any chunk size,
# odd lengths, resets on chunk boundaries, both directions.
def one_pass_emulation(bidir, L, T, seed, B=2, N=6):
  rnd = random.Random(seed)
  proj=[[[rnd.uniform(-2,2) for _ in range(4*N)] for _ in range(T)] for _ in range(B)]
  reset=[[0]*T for _ in range(B)]
  for b in range(B):
    for t in range(T):
      reset[b][t] = (1 if t==0 else 0) | rnd.choice([0,0,0,0,0,1,2,3])
    for t in range(L, T, 2*L): reset[b][t] |= 1 + (t//L) % 3  # 1, 2 or 3 on chunk boundaries
  dy=[[[rnd.uniform(-1,1) for _ in range(N)] for _ in range(T)] for _ in range(B)]
  C=(T+L-1)//L
  time_at, blocked, gate = lane_rules(proj, reset)
  yref, dref = sequential_reference(proj, reset, dy, bidir)
  def run(descending, reduce, finish):
    # agg/incl[b,k,c]; tiles in launch order; returns the entering state of every tile
    agg={}; incl={}; entering={}; stops=set()
    for order in range(C):
      k = C-1-order if descending else order
      for b in range(B):
        for c in range(N):
          A_, B_ = reduce(b, k, c); agg[b,k,c]=(A_,B_)
          step = 1 if descending else -1; count = C-1-k if descending else k
          state=0; d=1
          while d <= count:
            other=k+d*step
            if (b,other,c) in incl and rnd.random() < 0.5: state=incl[b,other,c]; break
            d+=1
          stops.add(min(d, count+1))
          for dd in range(d-1, 0, -1):
            a_,b_=agg[b,k+dd*step,c]; state=a_*state+b_
          entering[b,k,c]=state; incl[b,k,c]=A_*state+B_
          finish(b, k, c, state)
    return entering, stops
  def lane(k): s0=k*L; return s0, min(s0+L,T)
  def fwd_reduce(b,k,c):
    r=bidir and c>=N//2; s0,s1=lane(k); a=1; bb=0
    for s in range(s0,s1): f,u=gate(b,r,time_at(r,s),c); bb=f*bb+u; a*=f
    return a, bb
  y={}
  def fwd_finish(b,k,c,h):
    r=bidir and c>=N//2; s0,s1=lane(k)
    for s in range(s0,s1):
      t=time_at(r,s); f,u=gate(b,r,t,c); h=f*h+u; y[b,t,c]=gelu(proj[b][t][3*N+c])*h
  saved, stops_f = run(False, fwd_reduce, fwd_finish)
  # the sequential chain over chunks, as the three-pass kernel computes it
  for b in range(B):
    for c in range(N):
      carry=0
      for k in range(C):
        assert saved[b,k,c] == carry, "look-back changed the bits of an entering state"
        a_,b_=fwd_reduce(b,k,c); carry=a_*carry+b_
  def states_of(b,k,c):
    r=bidir and c>=N//2; s0,s1=lane(k); h=saved[b,k,c]; out=[]
    for s in range(s0,s1): f,u=gate(b,r,time_at(r,s),c); h=f*h+u; out.append(h)
    return out
  def bwd_reduce(b,k,c):
    r=bidir and c>=N//2; s0,s1=lane(k); a=1; bb=0
    for s in range(s1-1,s0-1,-1):
      t=time_at(r,s); f,_=gate(b,r,t,c); bb=f*(bb+dy[b][t][c]*gelu(proj[b][t][3*N+c])); a*=f
    return a, bb
  d={}
  def bwd_finish(b,k,c,carry):
    r=bidir and c>=N//2; s0,s1=lane(k); st=states_of(b,k,c)
    for s in range(s1-1,s0-1,-1):
      t=time_at(r,s); p=proj[b][t]; loc=s-s0; hk=st[loc]; hin=st[loc-1] if loc>0 else saved[b,k,c]
      g=dy[b][t][c]; dh=g*gelu(p[3*N+c])+carry; si=sig(p[c]); bl=blocked(b,r,t); f=0 if bl else sig(p[N+c])
      d[b,t,c]=dh*p[2*N+c]*si*(1-si); d[b,t,N+c]=0 if bl else dh*hin*f*(1-f)
      d[b,t,2*N+c]=dh*si; d[b,t,3*N+c]=g*hk*gelud(p[3*N+c]); carry=f*dh
  _, stops_b = run(True, bwd_reduce, bwd_finish)
  assert set(y)==set(yref) and set(d)==set(dref)
  ey=max(abs(y[k]-yref[k]) for k in yref); ed=max(abs(d[k]-dref[k]) for k in dref)
  print("one pass", "bidir" if bidir else "causal", "L", L, "T", T, "look-back stops at distances",
        sorted(stops_f | stops_b)[:6], "max |y err|", ey, "max |dproj err|", ed)
  assert ey < 1e-12 and ed < 1e-12
  assert C < 3 or max(stops_f | stops_b) > 1, "the look-back never went past its neighbour"

for bidir in (False, True):
  for L, T in ((1, 7), (3, 23), (4, 16), (5, 37), (16, 50)):
    one_pass_emulation(bidir, L, T, seed=L*100+T)
