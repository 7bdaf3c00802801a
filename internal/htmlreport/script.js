(function(){
"use strict";
// Sortable tables: numbers sort by data-v, text by its content.
document.querySelectorAll("table.sortable").forEach(function(t){
  var heads=t.tHead.rows[0].cells;
  Array.prototype.forEach.call(heads,function(th,i){
    th.addEventListener("click",function(){
      var num=th.classList.contains("num");
      var cur=th.getAttribute("aria-sort");
      var asc=cur?cur==="descending":!num;
      Array.prototype.forEach.call(heads,function(h){h.removeAttribute("aria-sort");});
      th.setAttribute("aria-sort",asc?"ascending":"descending");
      var body=t.tBodies[0],rows=Array.prototype.slice.call(body.rows);
      rows.sort(function(a,b){
        var x=a.cells[i],y=b.cells[i],r;
        if(x.dataset.v!==undefined&&y.dataset.v!==undefined){r=parseFloat(x.dataset.v)-parseFloat(y.dataset.v);}
        else{r=x.textContent.localeCompare(y.textContent);}
        return asc?r:-r;
      });
      rows.forEach(function(r){body.appendChild(r);});
    });
  });
});
// Chart hover: the nearest bucket's values in a tooltip.
function fmt(v,u){
  if(v===null)return "–";
  if(u==="ms"){return v<1?(v*1000).toFixed(0)+" µs":v<1000?+v.toPrecision(3)+" ms":+(v/1000).toPrecision(3)+" s";}
  return +v.toPrecision(4)+(u==="/s"?"/s":"");
}
function clock(s){s=Math.round(s);var m=Math.floor(s/60);s=s%60;return m+":"+(s<10?"0":"")+s;}
var tip=document.getElementById("tip");
document.querySelectorAll("svg.chart").forEach(function(svg){
  var d=JSON.parse(svg.dataset.points),cur=svg.querySelector(".cursor");
  if(!d.t||!d.t.length)return;
  svg.addEventListener("mousemove",function(e){
    var r=svg.getBoundingClientRect(),vb=svg.viewBox.baseVal;
    var x=(e.clientX-r.left)*vb.width/r.width,sec=(x-d.x0)/d.xw*d.s,best=0;
    for(var i=1;i<d.t.length;i++){if(Math.abs(d.t[i]-sec)<Math.abs(d.t[best]-sec))best=i;}
    var cx=d.x0+d.t[best]/d.s*d.xw;
    cur.setAttribute("x1",cx);cur.setAttribute("x2",cx);cur.setAttribute("visibility","visible");
    var h="<b>"+clock(d.t[best])+"</b>";
    d.l.forEach(function(l){h+="<br><span style=\"color:"+l.c+"\">■</span> "+l.n+": "+fmt(l.v[best],d.u);});
    tip.innerHTML=h;tip.hidden=false;
    tip.style.left=(e.clientX+14)+"px";tip.style.top=(e.clientY+14)+"px";
  });
  svg.addEventListener("mouseleave",function(){tip.hidden=true;cur.setAttribute("visibility","hidden");});
});
})();
