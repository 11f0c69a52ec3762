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
 * h('call', name, argsJson) -> call id; h('violation', type, reason);
 * h('done', json); h('fail', name, message, stack); h('oversize', length);
 * h('src', 0) -> COLD_SOURCE; h('src', 1) -> HOST_SOURCE.
 *
 * The prelude evaluates to `function (h) -> run`; `run(fn, contextJson,
 * setupJson)` installs the environment, calls the guest function and returns
 * `settle(callId, ok, payload)` for host replies; `run()` with no arguments
 * only compiles HOST_SOURCE (done ahead, while the worker is idle).
 */
export const PRELUDE_FILENAME = 'sandbox-prelude.js';

/**
 * The part parsed on every run: capture the intrinsics, install the globals,
 * run the guest. Anything only needed on a rarer path (console formatting,
 * error reporting, `require`'s messages, host calls) lives in COLD_SOURCE,
 * compiled on first use with the `eval` captured here before any guest code
 * ran. COLD_SOURCE is a function expression whose only free names are its
 * parameters, so guest changes to globals cannot reach it; it is fetched
 * from the host through the bridge (`h('src', 0)`). HOST_SOURCE, likewise, holds
 * the host-call machinery.
 */
const HOT = String.raw`(function(h){'use strict';
var G=globalThis,O=Object,fr=O.freeze,dp=O.defineProperty,gn=O.getOwnPropertyNames,gp=O.getPrototypeOf,S=JSON.stringify,P=JSON.parse,St=String,ap=Reflect.apply,E=Error,TE=TypeError,Pr=Promise,th=Pr.prototype.then,jn=Array.prototype.join,io=String.prototype.indexOf,sl=String.prototype.slice,Mp=Map,ev=G.eval,K,Q;
function L(){return K||(K=ev(h('src',0))(h,G,O,fr,dp,gn,gp,S,P,St,ap,E,TE,Pr,th,jn,io,sl,Mp,lk,df,vi))}
function Hm(){return Q||(Q=ev(h('src',1))(h,G,O,fr,dp,gn,gp,S,P,St,ap,E,TE,Pr,th,jn,io,sl,Mp,lk,df,vi))}
function lk(o,k,v){dp(o,k,{value:v,writable:false,enumerable:false,configurable:false})}
function vi(t,r){h('violation',t,r);throw new E('SecurityViolation: '+r)}
function df(v){if(v!==null&&typeof v==='object'){fr(v);var k=gn(v);for(var i=0;i<k.length;i++)df(v[k[i]])}return v}
function lg(n){return function(){L().lg(n,arguments)}}
function fail(e){var k;try{k=L()}catch(x){h('fail','InternalError',x===null?'out of memory':'the error could not be reported','');return}k.fail(e)}
function ser(v){if(v===undefined)return'null';var t=typeof v,s;if(t==='function'||t==='symbol')throw L().sert(t);try{s=S(v)}catch(e){throw L().serr(e)}return typeof s==='string'?s:'null'}
function stub(t,r,p){var f=function(){return vi(t,r)};if(p){f.prototype=p;lk(p,'constructor',f)}return f}
return function(fn,cj,sj){if(fn===undefined){Hm();return}var su=P(sj),i,st;lk(G,'context',df(P(cj)));lk(G,'console',fr({log:lg(0),info:lg(0),debug:lg(0),trace:lg(0),warn:lg(1),error:lg(1)}));
var fp=[Function.prototype,gp(async function(){}),gp(function*(){}),gp(async function*(){})];for(i=0;i<4;i++){var c=stub('code_injection',su.fnMsg,fp[i]);if(!i)lk(G,'Function',c)}
var d=su.deny;for(i=0;i<d.length;i++)lk(G,d[i][0],stub(d[i][1],d[i][2]));
if(!su.fs){var fo={},fl=['readFile','writeFile','readdir','stat'];for(i=0;i<4;i++)fo[fl[i]]=stub('filesystem','fs.'+fl[i]+su.fsMsg);lk(G,'fs',fr(fo))}
lk(G,'require',function(n){return L().req(n,su)});
if(su.host){var k=Hm();k.install(su);st=k.settle}
var p;try{p=fn()}catch(e){fail(e);return st}ap(th,p,[function(v){var o;try{o=ser(v)}catch(e){fail(e);return}if(o.length>su.max){h('oversize',o.length);return}h('done',o)},fail]);return st}})`;

/**
 * Compiled at most once per run, on first need. Its top level reads no
 * property of any shared object (the guest may have changed them by then)
 * and defines its own through a literal (immune to accessors the guest put
 * on Object.prototype); `install`, which reads intrinsics, only runs during
 * set-up, before the guest.
 */
export const COLD_SOURCE = String.raw`(function(h,G,O,fr,dp,gn,gp,S,P,St,ap,E,TE,Pr,th,jn,io,sl,Mp,lk,df,vi){'use strict';
function ss(v){try{return St(v)}catch(e){return'[unprintable value]'}}
function fm(v){if(typeof v==='string')return v;if(v instanceof E)return ss(v.name)+': '+ss(v.message);if(v!==null&&typeof v==='object'){try{var s=S(v,function(k,x){return typeof x==='bigint'?ss(x)+'n':x});if(typeof s==='string')return s}catch(e){}}return typeof v==='bigint'?ss(v)+'n':ss(v)}
var fu=[0,0],X={lg:function(n,a){if(fu[n])return;var b=[];for(var i=0;i<a.length;i++)b[i]=fm(a[i]);if(h('log',n,ap(jn,b,[' ']))===false)fu[n]=1},
fail:function(e){var n='Error',m='',s='';try{if(e instanceof E){n=ss(e.name);m=ss(e.message);s=typeof e.stack==='string'?e.stack:''}else{n='Thrown';m='a non-Error value was thrown: '+(typeof e==='string'?S(e):fm(e))}}catch(x){m='an unprintable value was thrown'}h('fail',n,ap(sl,m,[0,1e4]),ap(sl,s,[0,4e3]))},
sert:function(t){return new TE('the returned value is a '+t+', which is not JSON-serialisable')},
serr:function(e){var m=ss(e&&e.message);return new TE('the returned value is not JSON-serialisable: '+(ap(io,m,['circular'])>=0?'it contains a circular reference':ap(io,m,['BigInt'])>=0?'it contains a BigInt (convert it with String() or Number() first)':m))},
req:function(n,su){n=ss(n);var b=ap(io,n,['node:'])===0?ap(sl,n,[5]):n,t=su.mods[b];if(typeof t==='string')return vi(t,'require('+S(b)+') is not allowed: the sandbox has no modules');throw new E(su.reqMsg)}};
return X})`;

/** Host calls and capabilities (fs, fetch): compiled during set-up, before the guest, when the run has any. */
export const HOST_SOURCE = String.raw`(function(h,G,O,fr,dp,gn,gp,S,P,St,ap,E,TE,Pr,th,jn,io,sl,Mp,lk,df,vi){'use strict';
function ss(v){try{return St(v)}catch(e){return'[unprintable value]'}}
var X={};
X.install=function(su){var pm=new Mp(),mp=Mp.prototype,mg=mp.get,ms=mp.set,md=mp.delete,ho=O.prototype.hasOwnProperty,sp=St.prototype.split,lc=St.prototype.toLowerCase,oe=O.entries,Pres=Pr.resolve.bind(Pr),Prej=Pr.reject.bind(Pr),r={},i,j;
function hc(n,a){var j;try{j=S(a)}catch(e){return Prej(new TE('arguments of '+n+'() must be JSON-serialisable: '+ss(e&&e.message)))}if(typeof j!=='string')j='[]';return new Pr(function(res,rej){var id=h('call',n,j);ap(ms,pm,[id,[res,rej]])})}
function hf(n){return function(){var a=[];for(var i=0;i<arguments.length;i++)a[i]=arguments[i];return hc(n,a)}}
function mkres(r){var hd=r.headers||{};function low(k){return ap(lc,ss(k),[])}return fr({status:r.status,statusText:r.statusText,ok:r.status>=200&&r.status<300,url:r.url,redirected:!!r.redirected,headers:fr({get:function(k){k=low(k);return ap(ho,hd,[k])?hd[k]:null},has:function(k){return ap(ho,hd,[low(k)])},entries:function(){return oe(hd)}}),text:function(){return Pres(r.body)},json:function(){try{return Pres(P(r.body))}catch(e){return Prej(e)}}})}
X.settle=function(id,ok,pl){var p=ap(mg,pm,[id]);if(!p)return;ap(md,pm,[id]);if(ok){var v;try{v=pl===''?undefined:P(pl)}catch(e){p[1](e);return}p[0](v)}else p[1](new E(pl))};
if(su.fs){var fo={},fl=['readFile','writeFile','readdir','stat'];for(i=0;i<4;i++)fo[fl[i]]=hf('fs.'+fl[i]);lk(G,'fs',fr(fo))}
if(su.net)lk(G,'fetch',function(u,o){var q={};if(o!==null&&typeof o==='object'){if(o.method!==undefined)q.method=ss(o.method);if(o.headers!==undefined)q.headers=o.headers;if(o.body!==undefined)q.body=typeof o.body==='string'?o.body:S(o.body)}return ap(th,hc('fetch',[ss(u),q]),[mkres])});
for(i=0;i<su.hostNames.length;i++){var n=su.hostNames[i],ps=ap(sp,n,['.']),o=r;if(ps.length===1){r[n]=hf(n);continue}for(j=0;j<ps.length-1;j++){if(!ap(ho,o,[ps[j]]))o[ps[j]]={};o=o[ps[j]]}o[ps[ps.length-1]]=hf(n)}
var k=gn(r);for(i=0;i<k.length;i++)lk(G,k[i],df(r[k[i]]))};
return X})`;

/** The prelude source (one for every run: whether it sets up host calls is in the run's settings). */
export function preludeSource(): string {
  return HOT;
}

/** The guest code becomes the body of this async function (same line numbers; line 1 is offset by its length). */
export const GUEST_HEAD = '(async function () {';
export const GUEST_TAIL = '\n})';
export const GUEST_FILENAME = 'guest.js';
