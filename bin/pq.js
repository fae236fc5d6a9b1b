#!/usr/bin/env node
// `node bin/pq.js`: the same launcher as bin/pq, for those who start pq through Node. The
// launcher itself is CommonJS (bin/pq.cjs; see there why).
import "./pq.cjs";
