// The built-in type catalog: a small hand-picked set of real EVE Online types (ids, names, groups and
// categories as in the game; prices are rough Jita figures chosen by hand). Used when ../shared/sde is
// absent (a fresh clone) or with `--catalog builtin`; it covers every killmail shape the generator makes.

/** [category_id, name, published] */
export const BUILTIN_CATEGORIES: readonly (readonly [number, string, boolean])[] = [
  [0, "#System", false], [1, "Owner", false], [2, "Celestial", true], [3, "Station", false], [4, "Material", true],
  [5, "Accessories", true], [6, "Ship", true], [7, "Module", true], [8, "Charge", true], [9, "Blueprint", true],
  [10, "Trading", false], [11, "Entity", false], [14, "Bonus", false], [16, "Skill", true], [17, "Commodity", true],
  [18, "Drone", true], [20, "Implant", true], [22, "Deployable", true], [23, "Starbase", true], [24, "Reaction", true],
  [25, "Asteroid", true], [30, "Apparel", true], [32, "Subsystem", true], [34, "Ancient Relics", true],
  [35, "Decryptors", true], [39, "Infrastructure Upgrades", true], [40, "Sovereignty Structures", true],
  [41, "Planetary Industry", true], [42, "Planetary Resources", true], [43, "Planetary Commodities", true],
  [46, "Orbitals", true], [63, "Special Edition Assets", true], [65, "Structure", true], [66, "Structure Module", true],
  [87, "Fighter", true], [91, "SKINs", true],
];

/** [group_id, category_id, name, published] */
export const BUILTIN_GROUPS: readonly (readonly [number, number, string, boolean])[] = [
  // ships
  [25, 6, "Frigate", true], [26, 6, "Cruiser", true], [27, 6, "Battleship", true], [28, 6, "Hauler", true],
  [29, 6, "Capsule", false], [30, 6, "Titan", true], [31, 6, "Shuttle", true], [237, 6, "Corvette", true],
  [324, 6, "Assault Frigate", true], [358, 6, "Heavy Assault Cruiser", true], [380, 6, "Deep Space Transport", true],
  [419, 6, "Combat Battlecruiser", true], [420, 6, "Destroyer", true], [463, 6, "Mining Barge", true],
  [485, 6, "Dreadnought", true], [513, 6, "Freighter", true], [540, 6, "Command Ship", true],
  [541, 6, "Interdictor", true], [543, 6, "Exhumer", true], [547, 6, "Carrier", true], [659, 6, "Supercarrier", true],
  [830, 6, "Covert Ops", true], [831, 6, "Interceptor", true], [832, 6, "Logistics", true],
  [833, 6, "Force Recon Ship", true], [834, 6, "Stealth Bomber", true], [883, 6, "Capital Industrial Ship", true],
  [894, 6, "Heavy Interdiction Cruiser", true], [898, 6, "Black Ops", true], [900, 6, "Marauder", true],
  [902, 6, "Jump Freighter", true], [906, 6, "Combat Recon Ship", true], [941, 6, "Industrial Command Ship", true],
  [963, 6, "Strategic Cruiser", true], [1201, 6, "Attack Battlecruiser", true], [1202, 6, "Blockade Runner", true],
  [1305, 6, "Tactical Destroyer", true], [1538, 6, "Force Auxiliary", true],
  // modules
  [38, 7, "Shield Extender", true], [40, 7, "Shield Booster", true], [46, 7, "Propulsion Module", true],
  [52, 7, "Warp Scrambler", true], [53, 7, "Energy Weapon", true], [55, 7, "Projectile Weapon", true],
  [59, 7, "Gyrostabilizer", true], [60, 7, "Damage Control", true], [62, 7, "Armor Repair Unit", true],
  [65, 7, "Stasis Web", true], [71, 7, "Energy Neutralizer", true], [74, 7, "Hybrid Weapon", true],
  [77, 7, "Shield Hardener", true], [205, 7, "Heat Sink", true], [302, 7, "Magnetic Field Stabilizer", true],
  [326, 7, "Energized Armor Membrane", true], [329, 7, "Armor Plate", true], [330, 7, "Cloaking Device", true],
  [367, 7, "Ballistic Control system", true], [464, 7, "Strip Miner", true], [506, 7, "Missile Launcher Cruise", true],
  [507, 7, "Missile Launcher Rocket", true], [509, 7, "Missile Launcher Light", true],
  [510, 7, "Missile Launcher Heavy", true], [515, 7, "Siege Module", true], [546, 7, "Mining Upgrade", true],
  [763, 7, "Nanofiber Internal Structure", true], [765, 7, "Expanded Cargohold", true],
  [899, 7, "Warp Disrupt Field Generator", true], [773, 7, "Rig Armor", true], [774, 7, "Rig Shield", true],
  [777, 7, "Rig Projectile Weapon", true],
  // subsystems
  [954, 32, "Defensive Subsystem", true], [956, 32, "Offensive Subsystem", true],
  [957, 32, "Propulsion Subsystem", true], [958, 32, "Core Subsystem", true],
  // charges, drones, fighters
  [83, 8, "Projectile Ammo", true], [85, 8, "Hybrid Charge", true], [86, 8, "Frequency Crystal", true],
  [87, 8, "Capacitor Booster Charge", true], [372, 8, "Advanced Autocannon Ammo", true],
  [375, 8, "Advanced Pulse Laser Crystal", true], [377, 8, "Advanced Blaster Charge", true],
  [384, 8, "Light Missile", true], [385, 8, "Heavy Missile", true], [386, 8, "Cruise Missile", true],
  [387, 8, "Rocket", true], [916, 8, "Nanite Repair Paste", true],
  [100, 18, "Combat Drone", true], [101, 18, "Mining Drone", true], [639, 18, "Electronic Warfare Drone", true],
  [1652, 87, "Light Fighter", true],
  // containers, blueprints, skins, implants, goods
  [12, 2, "Cargo Container", true], [340, 2, "Secure Cargo Container", true], [649, 2, "Freight Container", true],
  [105, 9, "Frigate Blueprint", true], [118, 9, "Shield Extender Blueprint", true],
  [140, 9, "Damage Control Blueprint", true], [489, 9, "Battlecruiser Blueprint", true],
  [1950, 91, "Permanent SKIN", true],
  [300, 20, "Cyberimplant", true], [745, 20, "Cyber Learning", true], [749, 20, "Cyber Shields", true],
  [1730, 20, "Special Edition Implant", true],
  [18, 4, "Mineral", true], [423, 4, "Ice Product", true], [754, 4, "Salvaged Materials", true],
  [1875, 5, "PLEX", true], [1739, 5, "Skill Injectors", true], [280, 17, "General", true], [462, 25, "Veldspar", true],
  // NPC entities
  [99, 11, "Sentry Gun", false], [301, 11, "Concord Drone", false], [551, 11, "Asteroid Angel Cartel Cruiser", false],
  [562, 11, "Asteroid Guristas Frigate", false], [566, 11, "Asteroid Sansha's Nation Cruiser", false],
  [572, 11, "Asteroid Serpentis Frigate", false], [579, 11, "Asteroid Guristas Destroyer", false],
  [595, 11, "Deadspace Angel Cartel Cruiser", false], [1689, 11, "Asteroid Serpentis Dreadnought", false],
  [1982, 11, "Abyssal Spaceship Entities", false],
  // structures and deployables
  [1657, 65, "Citadel", true], [1404, 65, "Engineering Complex", true], [1406, 65, "Refinery", true],
  [1025, 46, "Orbital Infrastructure", false], [365, 23, "Control Tower", true], [1246, 22, "Mobile Depot", true],
];

/** [type_id, name, group_id, market_group_id (0 = not on the market), price in ISK, published (default: group's)] */
export type BuiltinType = readonly [number, string, number, number, number, boolean?];

export const BUILTIN_TYPES: readonly BuiltinType[] = [
  // frigates and frigate-sized hulls
  [587, "Rifter", 25, 64, 550_000], [603, "Merlin", 25, 61, 600_000], [597, "Punisher", 25, 72, 500_000],
  [593, "Tristan", 25, 77, 520_000], [585, "Slasher", 25, 64, 450_000], [32880, "Venture", 25, 1616, 900_000],
  [37455, "Griffin Navy Issue", 25, 1366, 3_800_000], [11400, "Jaguar", 324, 436, 22_000_000],
  [11186, "Malediction", 831, 400, 25_000_000], [11196, "Claw", 831, 403, 23_000_000],
  [11182, "Cheetah", 830, 424, 23_000_000], [12034, "Hound", 834, 424, 30_000_000],
  [12032, "Manticore", 834, 422, 32_000_000], [601, "Ibis", 237, 1817, 15_000], [11132, "Minmatar Shuttle", 31, 394, 25_000],
  // destroyers
  [16242, "Thrasher", 420, 468, 1_200_000], [16240, "Catalyst", 420, 467, 1_300_000],
  [34562, "Svipul", 1305, 1953, 55_000_000], [22456, "Sabre", 541, 835, 55_000_000],
  // cruisers
  [629, "Rupture", 26, 73, 12_000_000], [621, "Caracal", 26, 75, 13_000_000], [626, "Vexor", 26, 76, 12_000_000],
  [627, "Thorax", 26, 76, 11_000_000], [2006, "Omen", 26, 74, 11_000_000], [11999, "Vagabond", 358, 452, 220_000_000],
  [11993, "Cerberus", 358, 450, 250_000_000], [12005, "Ishtar", 358, 451, 260_000_000],
  [11963, "Rapier", 833, 836, 200_000_000], [11961, "Huginn", 906, 836, 210_000_000],
  [11978, "Scimitar", 832, 441, 190_000_000], [11989, "Oneiros", 832, 440, 200_000_000],
  [11995, "Onyx", 894, 1072, 300_000_000], [29990, "Loki", 963, 1142, 420_000_000], [29984, "Tengu", 963, 1140, 430_000_000],
  // battlecruisers
  [24702, "Hurricane", 419, 473, 60_000_000], [24698, "Drake", 419, 471, 58_000_000],
  [24700, "Myrmidon", 419, 472, 57_000_000], [4310, "Tornado", 1201, 473, 75_000_000],
  [4306, "Naga", 1201, 471, 74_000_000], [22444, "Sleipnir", 540, 834, 340_000_000],
  // battleships
  [639, "Tempest", 27, 78, 190_000_000], [24694, "Maelstrom", 27, 78, 230_000_000], [638, "Raven", 27, 80, 200_000_000],
  [24692, "Abaddon", 27, 79, 240_000_000], [641, "Megathron", 27, 81, 210_000_000],
  [17740, "Vindicator", 27, 1380, 750_000_000], [17738, "Machariel", 27, 1380, 420_000_000],
  [28665, "Vargur", 900, 1084, 1_600_000_000], [22430, "Sin", 898, 1078, 900_000_000],
  // industrial
  [652, "Mammoth", 28, 82, 2_000_000], [648, "Badger", 28, 84, 1_800_000], [1944, "Bestower", 28, 85, 1_900_000],
  [12729, "Crane", 1202, 631, 180_000_000], [12747, "Mastodon", 380, 633, 230_000_000],
  [17478, "Retriever", 463, 494, 38_000_000], [17480, "Procurer", 463, 494, 36_000_000],
  [22548, "Mackinaw", 543, 874, 250_000_000], [22544, "Hulk", 543, 874, 300_000_000],
  [20183, "Providence", 513, 767, 1_700_000_000], [28844, "Rhea", 902, 1091, 8_500_000_000],
  [28606, "Orca", 941, 2336, 700_000_000], [28352, "Rorqual", 883, 1048, 3_200_000_000],
  // capitals
  [23757, "Archon", 547, 818, 1_600_000_000], [23911, "Thanatos", 547, 820, 1_650_000_000],
  [19720, "Revelation", 485, 762, 2_300_000_000], [19722, "Naglfar", 485, 765, 2_200_000_000],
  [37604, "Apostle", 1538, 2272, 2_300_000_000], [23919, "Aeon", 659, 818, 24_000_000_000],
  [23913, "Nyx", 659, 820, 25_000_000_000], [11567, "Avatar", 30, 813, 75_000_000_000],
  [671, "Erebus", 30, 815, 78_000_000_000], [23773, "Ragnarok", 30, 816, 76_000_000_000],
  // capsules
  [670, "Capsule", 29, 0, 0], [33328, "Capsule - Genolution 'Auroral' 197-variant", 29, 0, 0],
  // high-slot modules
  [2889, "200mm AutoCannon II", 55, 574, 450_000], [2913, "425mm AutoCannon II", 55, 575, 1_200_000],
  [2929, "800mm Repeating Cannon II", 55, 576, 3_500_000], [2961, "1400mm Howitzer Artillery II", 55, 579, 6_000_000],
  [3178, "Light Neutron Blaster II", 74, 561, 500_000], [3186, "Neutron Blaster Cannon II", 74, 563, 4_000_000],
  [3001, "Dual Light Pulse Laser II", 53, 570, 450_000], [3520, "Heavy Pulse Laser II", 53, 572, 1_300_000],
  [10631, "Rocket Launcher II", 507, 639, 350_000], [2404, "Light Missile Launcher II", 509, 640, 500_000],
  [2410, "Heavy Missile Launcher II", 510, 642, 1_000_000], [19739, "Cruise Missile Launcher II", 506, 643, 3_500_000],
  [12267, "Medium Energy Neutralizer II", 71, 690, 1_600_000], [11578, "Covert Ops Cloaking Device II", 330, 675, 6_000_000],
  [28654, "Warp Disruption Field Generator I", 899, 1085, 40_000_000], [17482, "Strip Miner I", 464, 1040, 2_000_000],
  [4292, "Siege Module II", 515, 801, 450_000_000], [4294, "Triage Module II", 515, 801, 300_000_000],
  // mid-slot modules
  [438, "1MN Afterburner II", 46, 542, 450_000], [440, "5MN Microwarpdrive II", 46, 131, 1_100_000],
  [12076, "50MN Microwarpdrive II", 46, 131, 3_500_000], [448, "Warp Scrambler II", 52, 1936, 1_000_000],
  [3244, "Warp Disruptor II", 52, 1935, 1_200_000], [527, "Stasis Webifier II", 65, 683, 900_000],
  [3831, "Medium Shield Extender II", 38, 606, 1_300_000], [3841, "Large Shield Extender II", 38, 608, 2_800_000],
  [2281, "Multispectrum Shield Hardener II", 77, 1696, 1_900_000], [10842, "X-Large Shield Booster II", 40, 612, 8_000_000],
  // low-slot modules
  [2048, "Damage Control II", 60, 615, 900_000], [519, "Gyrostabilizer II", 59, 646, 600_000],
  [2364, "Heat Sink II", 205, 647, 600_000], [10190, "Magnetic Field Stabilizer II", 302, 648, 700_000],
  [22291, "Ballistic Control System II", 367, 645, 900_000], [20353, "1600mm Steel Plates II", 329, 1676, 2_500_000],
  [11269, "Multispectrum Energized Membrane II", 326, 1686, 1_500_000], [3540, "Large Armor Repairer II", 62, 1051, 1_800_000],
  [2605, "Nanofiber Internal Structure II", 763, 1196, 800_000], [1319, "Expanded Cargohold II", 765, 1197, 600_000],
  [28576, "Mining Laser Upgrade II", 546, 935, 2_500_000],
  // rigs
  [31790, "Medium Core Defense Field Extender I", 774, 1235, 1_800_000],
  [26088, "Large Core Defense Field Extender I", 774, 1236, 5_000_000],
  [31668, "Small Projectile Burst Aerator I", 777, 1237, 400_000], [25894, "Large Trimark Armor Pump I", 773, 1208, 6_000_000],
  [31055, "Medium Trimark Armor Pump I", 773, 1207, 1_800_000], [30993, "Capital Trimark Armor Pump I", 773, 1730, 45_000_000],
  // subsystems (Tengu, Loki)
  [45589, "Tengu Defensive - Covert Reconfiguration", 954, 1127, 30_000_000],
  [45601, "Tengu Offensive - Accelerated Ejection Bay", 956, 1131, 35_000_000],
  [45614, "Tengu Propulsion - Chassis Optimization", 957, 1135, 25_000_000],
  [45625, "Tengu Core - Electronic Efficiency Gate", 958, 1123, 28_000_000],
  [45595, "Loki Defensive - Covert Reconfiguration", 954, 1128, 30_000_000],
  [45607, "Loki Offensive - Projectile Scoping Array", 956, 1133, 33_000_000],
  [45620, "Loki Propulsion - Intercalated Nanofibers", 957, 1137, 26_000_000],
  [45631, "Loki Core - Dissolution Sequencer", 958, 1125, 27_000_000],
  // charges
  [185, "EMP S", 83, 113, 25], [12625, "Barrage S", 372, 859, 140], [12779, "Hail L", 372, 857, 900],
  [222, "Antimatter Charge S", 85, 107, 12], [238, "Antimatter Charge L", 85, 106, 60], [12612, "Void S", 377, 862, 130],
  [246, "Multifrequency S", 86, 102, 6_000], [12820, "Scorch L", 375, 869, 18_000],
  [28668, "Nanite Repair Paste", 916, 1103, 20_000], [32014, "Navy Cap Booster 800", 87, 139, 14_000],
  [210, "Scourge Light Missile", 384, 920, 30], [209, "Scourge Heavy Missile", 385, 924, 120],
  [203, "Scourge Cruise Missile", 386, 921, 400], [266, "Scourge Rocket", 387, 922, 18],
  // drones and fighters
  [2488, "Warrior II", 100, 837, 350_000], [2185, "Hammerhead II", 100, 838, 800_000], [2456, "Hobgoblin II", 100, 837, 400_000],
  [2446, "Ogre II", 100, 839, 1_600_000], [21640, "Valkyrie II", 100, 838, 900_000], [23707, "Hornet EC-300", 639, 841, 12_000],
  [10246, "Mining Drone I", 101, 158, 25_000], [23055, "Templar I", 1652, 840, 3_000_000],
  // containers
  [3467, "Small Secure Container", 340, 1651, 100_000], [3466, "Medium Secure Container", 340, 1651, 300_000],
  [11489, "Giant Secure Container", 340, 1651, 6_000_000], [3297, "Small Standard Container", 12, 1657, 10_000],
  [3296, "Large Standard Container", 12, 1657, 60_000], [3468, "Plastic Wrap", 649, 0, 0, false],
  // blueprints (originals; copies appear on killmails with singleton 2)
  [691, "Rifter Blueprint", 105, 264, 2_800_000], [3830, "Medium Shield Extender I Blueprint", 118, 1549, 125_000],
  [2047, "Damage Control I Blueprint", 140, 1542, 50_000], [24699, "Drake Blueprint", 489, 590, 580_000_000],
  // SKINs (category 91: never tradable through the market history route)
  [34748, "Rifter Krusual SKIN", 1950, 2005, 15_000_000], [36360, "Drake Wiyrkomi SKIN", 1950, 0, 20_000_000],
  [34629, "Raven Wiyrkomi SKIN", 1950, 1965, 25_000_000],
  // implants
  [33329, "Genolution 'Auroral' AU-79", 1730, 1814, 1_000_000], [19540, "High-grade Snake Alpha", 300, 618, 180_000_000],
  [9899, "Ocular Filter - Basic", 745, 618, 5_000_000], [10212, "Neural Boost - Standard", 745, 620, 20_000_000],
  [27104, "Zainou 'Gnome' Shield Upgrades SU-601", 749, 1480, 2_000_000],
  // materials and goods
  [34, "Tritanium", 18, 1857, 4], [35, "Pyerite", 18, 1857, 9], [36, "Mexallon", 18, 1857, 50],
  [11399, "Morphite", 18, 1857, 9_000], [16275, "Strontium Clathrates", 423, 1033, 1_500],
  [16273, "Liquid Ozone", 423, 1033, 90], [25605, "Armor Plates", 754, 1863, 35_000], [44992, "PLEX", 1875, 1923, 4_300_000],
  [40520, "Large Skill Injector", 1739, 2358, 850_000_000], [3699, "Quafe", 280, 492, 30],
  [62516, "Compressed Veldspar", 462, 518, 650],
  // NPC ships (attackers on NPC kills; never on the market)
  [23312, "Guristas Nihilist", 579, 0, 0], [2384, "Guristas Imputor", 562, 0, 0], [11037, "Sansha's Beast", 566, 0, 0],
  [16884, "Gistum Predator", 595, 0, 0], [11026, "Angel Crusher", 551, 0, 0], [11045, "Serpentis Agent", 572, 0, 0],
  [37468, "Serpentis Dreadnought", 1689, 0, 0], [48092, "Striking Damavik", 1982, 0, 0],
  [3885, "CONCORD Police Captain", 301, 0, 0], [3743, "Minmatar Sentry Gun", 99, 0, 0],
  // structures and deployables (victims without a character)
  [35832, "Astrahus", 1657, 2201, 1_500_000_000], [35833, "Fortizar", 1657, 2201, 20_000_000_000],
  [35834, "Keepstar", 1657, 2201, 250_000_000_000], [35825, "Raitaru", 1404, 2324, 650_000_000],
  [35835, "Athanor", 1406, 2327, 750_000_000], [2233, "Customs Office", 1025, 0, 60_000_000],
  [12235, "Amarr Control Tower", 365, 478, 350_000_000], [33474, "Mobile Depot", 1246, 1831, 1_500_000],
];

/** [solar_system_id, name, security, constellation_id, region_id] — real systems across high, low and null sec. */
export const BUILTIN_SYSTEMS: readonly (readonly [number, string, number, number, number])[] = [
  [30000142, "Jita", 0.9459, 20000020, 10000002], [30000144, "Perimeter", 0.9531, 20000020, 10000002],
  [30000134, "Hykkota", 0.8237, 20000019, 10000002], [30000153, "Poinen", 0.5581, 20000022, 10000002],
  [30000163, "Akora", 0.3246, 20000023, 10000002], [30002187, "Amarr", 1.0, 20000322, 10000043],
  [30002659, "Dodixie", 0.8684, 20000389, 10000032], [30002510, "Rens", 0.8946, 20000367, 10000030],
  [30002053, "Hek", 0.8, 20000302, 10000042], [30002768, "Uedama", 0.5054, 20000406, 10000033],
  [30002765, "Sivala", 0.5505, 20000405, 10000033], [30002813, "Tama", 0.2826, 20000412, 10000033],
  [30002537, "Amamake", 0.4388, 20000372, 10000030], [30002718, "Rancer", 0.3647, 20000398, 10000032],
  [30005000, "Old Man Star", 0.3357, 20000731, 10000064], [30003068, "Kourmonen", 0.3635, 20000448, 10000038],
  [30045352, "Nisuwa", 0.3094, 20000782, 10000069], [30003504, "Niarja", -1.0, 20000788, 10000070],
  [30001161, "HED-GP", -0.1463, 20000169, 10000014], [30004759, "1DQ1-A", -0.3858, 20000696, 10000060],
  [30004711, "PR-8CA", -0.0265, 20000688, 10000060], [30004735, "T5ZI-S", -0.1431, 20000692, 10000060],
  [30000848, "M-OEE8", -0.2183, 20000124, 10000010], [30001984, "EC-P8R", -0.4466, 20000292, 10000023],
  [30004617, "YZ-LQL", -0.1073, 20000674, 10000058], [30002440, "BWF-ZZ", -0.5754, 20000358, 10000029],
];

/** [region_id, name] */
export const BUILTIN_REGIONS: readonly (readonly [number, string])[] = [
  [10000002, "The Forge"], [10000043, "Domain"], [10000032, "Sinq Laison"], [10000030, "Heimatar"],
  [10000042, "Metropolis"], [10000033, "The Citadel"], [10000064, "Essence"], [10000038, "The Bleak Lands"],
  [10000069, "Black Rise"], [10000070, "Pochven"], [10000014, "Catch"], [10000060, "Delve"], [10000010, "Tribute"],
  [10000023, "Pure Blind"], [10000058, "Fountain"], [10000029, "Geminate"],
];

/** [faction_id, name, corporation_id] */
export const BUILTIN_FACTIONS: readonly (readonly [number, string, number])[] = [
  [500001, "Caldari State", 1000035], [500002, "Minmatar Republic", 1000051], [500003, "Amarr Empire", 1000084],
  [500004, "Gallente Federation", 1000120], [500006, "CONCORD Assembly", 1000137], [500010, "Guristas Pirates", 1000127],
  [500011, "Angel Cartel", 1000138], [500012, "Blood Raider Covenant", 1000134], [500019, "Sansha's Nation", 1000162],
  [500020, "Serpentis", 1000135], [500024, "Drifters", 1000274], [500026, "Triglavian Collective", 1000298],
];

/** [corporation_id, name, faction_id (0 = none)] — NPC corporations (ids 1,000,000–1,999,999). */
export const BUILTIN_NPC_CORPORATIONS: readonly (readonly [number, string, number])[] = [
  [1000001, "Doomheim", 0], [1000035, "Caldari Navy", 500001], [1000044, "School of Applied Knowledge", 500001],
  [1000045, "Science and Trade Institute", 500001], [1000049, "Brutor Tribe", 500002], [1000051, "Republic Fleet", 500002],
  [1000084, "Amarr Navy", 500003], [1000120, "Federation Navy", 500004], [1000124, "Archangels", 500011],
  [1000125, "CONCORD", 500006], [1000127, "Guristas", 500010], [1000134, "Blood Raiders", 500012],
  [1000135, "Serpentis Corporation", 500020], [1000137, "DED", 500006], [1000138, "Dominations", 500011],
  [1000161, "True Creations", 500019], [1000162, "True Power", 500019], [1000166, "Imperial Academy", 500003],
  [1000167, "State War Academy", 500001], [1000168, "Federal Navy Academy", 500004],
  [1000170, "Republic Military School", 500002], [1000179, "24th Imperial Crusade", 500003],
  [1000180, "State Protectorate", 500001], [1000181, "Federal Defense Union", 500004],
  [1000182, "Tribal Liberation Force", 500002], [1000274, "Vigilant Tyrannos", 500024], [1000298, "The Convocation of Triglav", 500026],
];

/** [station_id, name, solar_system_id] — home stations named by corporations. */
export const BUILTIN_STATIONS: readonly (readonly [number, string, number])[] = [
  [60003760, "Jita IV - Moon 4 - Caldari Navy Assembly Plant", 30000142],
  [60008494, "Amarr VIII (Oris) - Emperor Family Academy", 30002187],
  [60011866, "Dodixie IX - Moon 20 - Federation Navy Assembly Plant", 30002659],
  [60004588, "Rens VI - Moon 8 - Brutor Tribe Treasury", 30002510],
];
