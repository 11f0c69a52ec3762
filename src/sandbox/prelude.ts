/**
 * The guest-side half of the sandbox, evaluated in every fresh QuickJS context
 * before the agent's code. It receives the single host bridge function `h` in a
 * closure (never as a global), captures the intrinsics it needs before any
 * guest code can tamper with them, and installs `context`, `console`, the
 * capability objects and the denial stubs. Everything that crosses to the host
 * is a string or a number; the host checks types again.
 *
 * It is written compactly on purpose: QuickJS parses it on every execution
 * (a fresh context each time) and parsing costs roughly in proportion to its
 * size, so only the part every run needs is parsed each time (see HOT).
 *
 * Host bridge ops: h('log', stream, text) -> false when the stream is full;
 * h('call', name, argsJson) -> call id; h('deny', what) -> the reason (a
 * denial stub was called: records the violation); h('require', name) -> the
 * message to throw (records a violation for a known module); h('done', json);
 * h('fail', name, message, stack); h('oversize', length); h('src', 0) ->
 * COLD_SOURCE; h('src', 1) -> HOST_SOURCE.
 *
 * The prelude evaluates to `function (h) -> run`. `run(setupJson)` installs
 * the environment (console, denial stubs, `require`, host functions: see
 * Setup); the engine does this ahead, while the worker is idle, with the
 * settings of the run before. Then `run(fn, contextJson)` installs `context`,
 * calls the guest function and returns `settle(callId, ok, payload)` for host
 * replies (when the run has host functions).
 */
import { OUTPUT_CAP } from './protocol';

export const PRELUDE_FILENAME = 'sandbox-prelude.js';

/**
 * The part parsed on every run: capture the intrinsics, install the globals,
 * run the guest. QuickJS parses it in every fresh context (measured here:
 * about 0.15 µs a character, the largest cost of a small run), so it holds
 * only what every run needs. Everything else lives in COLD_SOURCE (console
 * formatting, error reports, `require`) or HOST_SOURCE (host calls), compiled
 * on first use with the `eval` captured here before any guest code ran. Both
 * are function expressions whose only free names are their parameters (the
 * captured intrinsics, passed as one array), so guest changes to globals
 * cannot reach them; they are fetched from the host through the bridge
 * (`h('src', 0|1)`). Messages (denials, `require`) are the host's: a stub only
 * names what was denied.
 */
const HOT = String.raw`(function(h){'use strict';
var G=globalThis,O=Object,fr=O.freeze,dp=O.defineProperty,gn=O.getOwnPropertyNames,gp=O.getPrototypeOf,S=JSON.stringify,P=JSON.parse,E=Error,ev=G.eval,I=[h,G,O,fr,dp,gn,gp,S,P,String,Reflect.apply,E,TypeError,Promise,Promise.prototype.then,Array.prototype.join,String.prototype.indexOf,String.prototype.slice,Map,lk,df],K,Q;
function C(n){return ev(h('src',n))(I)}
function lk(o,k,v){dp(o,k,{value:v,writable:false,enumerable:false,configurable:false})}
function df(v){if(v!==null&&typeof v==='object'){fr(v);var k=gn(v);for(var i=0;i<k.length;i++)df(v[k[i]])}return v}
function lg(n){return function(){(K||(K=C(0))).lg(n,arguments)}}
function fail(e,s,o){try{K||(K=C(0))}catch(x){h('fail','InternalError',x===null?'out of memory':'the error could not be reported','');return}K.fail(e,s,o)}
function stub(k,p){var f=function(){throw new E('SecurityViolation: '+h('deny',k))};if(p){f.prototype=p;lk(p,'constructor',f)}return f}
var st,ap=I[10];
return function(a,b){var i,p;if(typeof a==='string'){var su=P(a),d=su.d,f=su.f;lk(G,'console',fr({log:lg(0),info:lg(0),debug:lg(0),trace:lg(0),warn:lg(1),error:lg(1)}));
p=[Function.prototype,gp(async function(){}),gp(function*(){}),gp(async function*(){})];for(i=0;i<4;i++){st=stub('Function',p[i]);if(!i)lk(G,'Function',st)}
for(i=0;i<d.length;i++)lk(G,d[i],stub(d[i]));
if(!su.fs){p={};for(i=0;i<f.length;i++)p[f[i]]=stub('fs.'+f[i]);lk(G,'fs',fr(p))}
lk(G,'require',function(n){(K||(K=C(0))).req(n)});st=void 0;if(su.h){p=Q||(Q=C(1));p.install(su);st=p.settle}return}
lk(G,'context',df(P(b)));try{p=a()}catch(e){fail(e);return st}ap(I[14],p,[function(v){var o;try{o=v===undefined?'null':S(v)}catch(e){fail(e,1);return}if(typeof o==='string'&&o.length<=${OUTPUT_CAP})h('done',o);else fail(v,2,o)},fail]);return st}})`;

/**
 * Compiled at most once per run, on first need. Its top level reads no
 * property of any shared object (the guest may have changed them by then)
 * and defines its own through a literal (immune to accessors the guest put
 * on Object.prototype).
 */
export const COLD_SOURCE = String.raw`(function(I){'use strict';
var h=I[0],S=I[7],St=I[9],ap=I[10],E=I[11],TE=I[12],jn=I[15],io=I[16],sl=I[17];
function ss(v){try{return St(v)}catch(e){return'[unprintable value]'}}
function fm(v){if(typeof v==='string')return v;if(v instanceof E)return ss(v.name)+': '+ss(v.message);if(v!==null&&typeof v==='object'){try{var s=S(v,function(k,x){return typeof x==='bigint'?ss(x)+'n':x});if(typeof s==='string')return s}catch(e){}}return typeof v==='bigint'?ss(v)+'n':ss(v)}
function serr(e){var m=ss(e&&e.message);return new TE('the returned value is not JSON-serialisable: '+(ap(io,m,['circular'])>=0?'it contains a circular reference':ap(io,m,['BigInt'])>=0?'it contains a BigInt (convert it with String() or Number() first)':m))}
function report(e){var n='Error',m='',s='';try{if(e instanceof E){n=ss(e.name);m=ss(e.message);s=typeof e.stack==='string'?e.stack:''}else{n='Thrown';m='a non-Error value was thrown: '+(typeof e==='string'?S(e):fm(e))}}catch(x){m='an unprintable value was thrown'}h('fail',n,ap(sl,m,[0,1e4]),ap(sl,s,[0,4e3]))}
var fu=[0,0];
return{lg:function(n,a){if(fu[n])return;var b=[];for(var i=0;i<a.length;i++)b[i]=fm(a[i]);if(h('log',n,ap(jn,b,[' ']))===false)fu[n]=1},
fail:function(e,s,o){if(!s)return report(e);if(s===1)return report(serr(e));if(typeof o==='string')return h('oversize',o.length);var t=typeof e;if(t==='function'||t==='symbol')return report(new TE('the returned value is a '+t+', which is not JSON-serialisable'));h('done','null')},
req:function(n){throw new E(h('require',ss(n)))}}})`;

/** Host calls and capabilities (fs, fetch): compiled during set-up, before the guest, when the run has any. */
export const HOST_SOURCE = String.raw`(function(I){'use strict';
var h=I[0],G=I[1],O=I[2],fr=I[3],gn=I[5],S=I[7],P=I[8],St=I[9],ap=I[10],E=I[11],TE=I[12],Pr=I[13],th=I[14],Mp=I[18],lk=I[19],df=I[20];
function ss(v){try{return St(v)}catch(e){return'[unprintable value]'}}
var X={};
X.install=function(su){var pm=new Mp(),mp=Mp.prototype,mg=mp.get,ms=mp.set,md=mp.delete,ho=O.prototype.hasOwnProperty,sp=St.prototype.split,lc=St.prototype.toLowerCase,oe=O.entries,Pres=Pr.resolve.bind(Pr),Prej=Pr.reject.bind(Pr),r={},i,j;
function hc(n,a){var j;try{j=S(a)}catch(e){return Prej(new TE('arguments of '+n+'() must be JSON-serialisable: '+ss(e&&e.message)))}if(typeof j!=='string')j='[]';return new Pr(function(res,rej){var id=h('call',n,j);ap(ms,pm,[id,[res,rej]])})}
function hf(n){return function(){var a=[];for(var i=0;i<arguments.length;i++)a[i]=arguments[i];return hc(n,a)}}
function mkres(r){var hd=r.headers||{};function low(k){return ap(lc,ss(k),[])}return fr({status:r.status,statusText:r.statusText,ok:r.status>=200&&r.status<300,url:r.url,redirected:!!r.redirected,headers:fr({get:function(k){k=low(k);return ap(ho,hd,[k])?hd[k]:null},has:function(k){return ap(ho,hd,[low(k)])},entries:function(){return oe(hd)}}),text:function(){return Pres(r.body)},json:function(){try{return Pres(P(r.body))}catch(e){return Prej(e)}}})}
X.settle=function(id,ok,pl){var p=ap(mg,pm,[id]);if(!p)return;ap(md,pm,[id]);if(ok){var v;try{v=pl===''?undefined:P(pl)}catch(e){p[1](e);return}p[0](v)}else p[1](new E(pl))};
if(su.fs){var fo={},fl=su.f;for(i=0;i<fl.length;i++)fo[fl[i]]=hf('fs.'+fl[i]);lk(G,'fs',fr(fo))}
if(su.net)lk(G,'fetch',function(u,o){var q={};if(o!==null&&typeof o==='object'){if(o.method!==undefined)q.method=ss(o.method);if(o.headers!==undefined)q.headers=o.headers;if(o.body!==undefined)q.body=typeof o.body==='string'?o.body:S(o.body)}return ap(th,hc('fetch',[ss(u),q]),[mkres])});
for(i=0;i<su.n.length;i++){var n=su.n[i],ps=ap(sp,n,['.']),o=r;if(ps.length===1){r[n]=hf(n);continue}for(j=0;j<ps.length-1;j++){if(!ap(ho,o,[ps[j]]))o[ps[j]]={};o=o[ps[j]]}o[ps[ps.length-1]]=hf(n)}
var k=gn(r);for(i=0;i<k.length;i++)lk(G,k[i],df(r[k[i]]))};
return X})`;

/** A run's settings for the prelude (sent as JSON). */
export interface Setup {
  /** Host-call machinery needed (host functions, fs or fetch). */
  h: boolean;
  /** Globals replaced by denial stubs. */
  d: string[];
  /** The `fs` methods: host calls when `fs`, else denial stubs. */
  f: readonly string[];
  /** Host function names (dotted paths). */
  n: string[];
  fs: boolean;
  net: boolean;
}

/** The prelude source (one for every run: whether it sets up host calls is in the run's settings). */
export function preludeSource(): string {
  return HOT;
}

/** The guest code becomes the body of this async function (same line numbers; line 1 is offset by its length). */
export const GUEST_HEAD = '(async function () {';
export const GUEST_TAIL = '\n})';
export const GUEST_FILENAME = 'guest.js';
