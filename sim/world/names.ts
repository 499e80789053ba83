// Deterministic made-up names for pilots, corporations and alliances (EVE-style, ASCII only).
import type { Rng } from "./rng.ts";

const FIRST = [
  "Ar",
  "Bel",
  "Cor",
  "Da",
  "El",
  "Fen",
  "Gar",
  "Hal",
  "Is",
  "Jor",
  "Ka",
  "Lor",
  "Mir",
  "Nol",
  "Or",
  "Pyr",
  "Quin",
  "Ra",
  "Sol",
  "Tar",
  "Ul",
  "Vex",
  "Wyn",
  "Xan",
  "Yor",
  "Zel",
  "Aki",
  "Bri",
  "Cyr",
  "Dra",
  "Eno",
  "Fal",
];
const MID = ["a", "e", "i", "o", "u", "ae", "ia", "or", "en", "an", "is", "yr", "el", "ar", "on", ""];
const LAST = ["n", "th", "ra", "dor", "ssa", "mir", "lek", "vos", "ri", "nen", "kai", "tus", "wen", "rok", "lia", "ven"];
const SURNAME = [
  "Vaskar",
  "Oroku",
  "Tenn",
  "Haldane",
  "Korhonen",
  "Aulmont",
  "Sarpati",
  "Ishukone",
  "Kador",
  "Tash-Murkon",
  "Brutor",
  "Sebiestor",
  "Vherokior",
  "Deteis",
  "Achura",
  "Intaki",
  "Jin-Mei",
  "Khanid",
  "Ardishapur",
  "Sarum",
  "Cortez",
  "Draven",
  "Elvarr",
  "Foss",
  "Grimm",
  "Hollow",
  "Irons",
  "Jaxx",
  "Kestrel",
  "Lunde",
  "Mace",
  "Nox",
];
const CORP_A = [
  "Deep",
  "Void",
  "Iron",
  "Red",
  "Black",
  "Silent",
  "Star",
  "Crimson",
  "Azure",
  "Hollow",
  "Nova",
  "Storm",
  "Frozen",
  "Burning",
  "Outer",
  "Lost",
  "Golden",
  "Shadow",
  "Null",
  "Pale",
];
const CORP_B = [
  "Mining",
  "Logistics",
  "Industries",
  "Syndicate",
  "Collective",
  "Holdings",
  "Armada",
  "Brotherhood",
  "Enterprises",
  "Cartel",
  "Legion",
  "Guard",
  "Fleet",
  "Ventures",
  "Dynamics",
  "Foundry",
  "Wolves",
  "Reavers",
];
const ALLIANCE_B = [
  "Coalition",
  "Alliance",
  "Federation",
  "Imperium",
  "Consortium",
  "Accord",
  "Union",
  "Pact",
  "Horde",
  "Directorate",
  "Assembly",
  "Compact",
];

function word(rng: Rng): string {
  return rng.pick(FIRST) + rng.pick(MID) + rng.pick(LAST);
}

export function pilotName(rng: Rng): string {
  const first = word(rng);
  return rng.chance(0.8) ? `${first} ${rng.pick(SURNAME)}` : `${first} ${word(rng)}`;
}

export function corporationName(rng: Rng): string {
  return rng.chance(0.6) ? `${rng.pick(CORP_A)} ${rng.pick(CORP_B)}` : `${word(rng)} ${rng.pick(CORP_B)}`;
}

export function allianceName(rng: Rng): string {
  return rng.chance(0.5) ? `${rng.pick(CORP_A)} ${rng.pick(ALLIANCE_B)}` : `The ${word(rng)} ${rng.pick(ALLIANCE_B)}`;
}

export function ticker(rng: Rng, length: number): string {
  let s = "";
  for (let i = 0; i < length; i++) s += String.fromCharCode(65 + rng.int(0, 25));
  return s;
}
