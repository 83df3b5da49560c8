#!/usr/bin/env python3
# Emulates, in plain Python (f64), the chunked algorithm of kernels/cuda/scan.cu (reduce ->
# carry scan -> rescan, forward and backward, chunk length 4 here) and compares it with a
# transcription of the CPU reference kernels/cpu/scan.cpp, causal and bidirectional with
# random resets. It checks the decomposition, not the CUDA code itself (no GPU needed).
# Prints the largest absolute differences; both should be ~1e-16.
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
