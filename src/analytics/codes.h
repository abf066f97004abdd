// The clinical codes the built-in jobs use (docs/analytics.md lists them with sources).
#pragma once

#include <string_view>
#include <vector>

namespace medhub::analytics::codes {

// SNOMED CT conditions.
inline constexpr std::string_view kHypertension = "38341003";
inline constexpr std::string_view kAtrialFibrillation = "49436004";
inline constexpr std::string_view kStroke = "230690007";
inline const std::vector<std::string_view> kDiabetes = {
    "44054006",         // diabetes mellitus type 2
    "73211009",         // diabetes mellitus
    "46635009",         // diabetes mellitus type 1
    "368581000119106",  // neuropathy due to type 2 diabetes mellitus
    "422034002",        // diabetic retinopathy associated with type II diabetes mellitus
    "127013003",        // diabetic renal disease
    "90781000119102",   // microalbuminuria due to type 2 diabetes mellitus
    "157141000119108",  // proteinuria due to type 2 diabetes mellitus
    "1551000119108",    // nonproliferative diabetic retinopathy due to type 2 DM
    "97331000119101",   // macular edema and retinopathy due to type 2 DM
    "60951000119105",   // blindness due to type 2 diabetes mellitus
};
inline const std::vector<std::string_view> kSmokerConditions = {"77176002", "449868002",
                                                                "65568007"};
inline const std::vector<std::string_view> kObesityConditions = {"162864005", "408512008",
                                                                 "414916001"};

// LOINC observations. Blood pressure panels: 85354-9 (current), 55284-4 (older Synthea).
inline const std::vector<std::string_view> kBpPanels = {"85354-9", "55284-4"};
inline constexpr std::string_view kSystolic = "8480-6";
inline constexpr std::string_view kDiastolic = "8462-4";
inline constexpr std::string_view kBmi = "39156-5";
inline constexpr std::string_view kTobaccoStatus = "72166-2";
// SNOMED answers to 72166-2 that mean "smokes now".
inline const std::vector<std::string_view> kCurrentSmoker = {
    "449868002", "428041000124106", "77176002", "65568007", "428061000124105", "428071000124103"};

// RxNorm oral anticoagulants, from the VSAC value set "Anticoagulants for All
// Indications" (2.16.840.1.113762.1.4.1248.22) plus the ingredient codes.
inline const std::vector<std::string_view> kAnticoagulants = {
    // warfarin (ingredient 11289) 1, 10, 2, 2.5, 3, 4, 5, 6, 7.5 MG tablets
    "11289", "855288", "855296", "855302", "855312", "855318", "855324", "855332", "855338",
    "855344",
    // apixaban (1364430) 2.5, 5 MG tablets, 5 MG pack
    "1364430", "1364435", "1364445", "1992427",
    // rivaroxaban (1114195) 10, 15, 20 MG tablets, starter pack
    "1114195", "1114198", "1232082", "1232086", "1549682",
    // dabigatran etexilate (1037042) 150, 75, 110 MG capsules
    "1037042", "1037045", "1037179", "1723476",
    // edoxaban (1599538) 15, 30, 60 MG tablets
    "1599538", "1599543", "1599551", "1599555"};
inline const std::vector<std::string_view> kAnticoagulantNames = {
    "warfarin", "apixaban", "rivaroxaban", "dabigatran", "edoxaban"};

}  // namespace medhub::analytics::codes
