"""The demo content: codes 93590, 93591 and 93592 as the two published seed briefs state them.

Text is taken word for word from the briefs; nothing clinical or payer-specific is added. What the
briefs mark as missing becomes a follow-up gap.
"""

from codes.choices import CodeSystem

CATEGORY = "Cardiovascular / structural heart"

PAYERS = [
    {"name": "Aetna", "slug": "aetna", "kind": "commercial", "is_national": True},
    {"name": "Blue Cross Blue Shield", "slug": "blue-cross-blue-shield", "kind": "bcbs", "is_national": True},
    {"name": "Cigna Health", "slug": "cigna-health", "kind": "commercial", "is_national": True},
    {"name": "UnitedHealthcare", "slug": "unitedhealthcare", "kind": "commercial", "is_national": True},
    {"name": "Medicare", "slug": "medicare", "kind": "medicare", "is_national": True},
]

MODIFIERS = [
    {"code": "62", "description": "Two surgeons", "level": "CPT"},
]

PLACES_OF_SERVICE = [
    {"code": "21", "name": "Inpatient Hospital", "setting": "facility"},
    {"code": "22", "name": "On Campus-Outpatient Hospital", "setting": "facility"},
    {"code": "24", "name": "Ambulatory Surgical Center", "setting": "facility"},
]

CODES = [
    {
        "system": CodeSystem.CPT,
        "code": "93590",
        "short_descriptor": "Percutaneous Mitral Valve Occlusion, First Device",
        "category": CATEGORY,
        "is_add_on": False,
        "long_descriptor": (
            "CPT code 93590 describes percutaneous insertion of a first occlusion device to close a "
            "leak around the mitral valve (the valve between the left atrium and left ventricle). The "
            "procedure involves advancing a specially designed prosthetic occlusion device through a "
            "catheter inserted percutaneously via a small incision and positioning the device to seal "
            "regurgitant flow around a previously implanted prosthetic mitral valve or native "
            "annulus."
        ),
        "brief": {
            "title": "Percutaneous Mitral Valve Occlusion, First Device",
            "headline": "New billing descriptor clarifies percutaneous mitral valve leak closure procedure",
            "lead": (
                "CPT code 93590 designates the percutaneous insertion of the first occlusion device to "
                "close a leak around the mitral valve. The code captures a specialized transcatheter "
                "intervention for mitral regurgitation related to paravalvular leaks or prosthetic valve "
                "leaks and is relevant for procedural coding, payer coverage determinations, and facility "
                "resource planning nationwide."
            ),
            "significance": (
                "CPT code 93590 identifies a high-cost, high-complexity transcatheter structural heart "
                "procedure used to seal mitral valve leaks. As transcatheter solutions expand, accurate "
                "capture of this specific code supports clinical registries, quality measurement, and "
                "appropriate payment for facilities and interventional teams."
            ),
            "key_payers_summary": (
                "Analysis includes major national payers: Aetna, Blue Cross Blue Shield, Cigna Health, "
                "UnitedHealthcare, and Medicare."
            ),
            "reader_takeaways": (
                "The publication summarizes clinical context for percutaneous mitral occlusion, typical "
                "sites of service, and practical coding considerations. It highlights benchmarking points "
                "for utilization and reimbursement (where available), common modifiers used with "
                "structural heart interventions, and policy considerations relevant to coverage and "
                "documentation requirements. The piece also outlines gaps where data was not supplied and "
                "flags areas for follow-up, including detailed payer-specific coverage criteria and "
                "associated diagnostic coding."
            ),
            "service_type": "Percutaneous transcatheter mitral valve occlusion (first occlusion device insertion)",
            "site_of_service_summary": (
                "Hospital inpatient or hospital outpatient catheterization laboratory or hybrid operating room"
            ),
            "clinical_context": (
                "A 78-year-old patient with a history of ischemic cardiomyopathy and prior mitral valve "
                "replacement presents with progressive dyspnea, orthopnea, and signs of congestive heart "
                "failure. Echocardiography and transesophageal echocardiography identify a clinically "
                "significant paravalvular leak around the prosthetic mitral valve with evidence of "
                "hemolysis and worsening heart failure symptoms despite optimized medical therapy. The "
                "interventional cardiology team schedules a percutaneous transcatheter mitral "
                "paravalvular leak closure. Under conscious sedation or general anesthesia in a cardiac "
                "catheterization laboratory or hybrid operating room, the operator obtains venous and "
                "arterial access, performs intracardiac and transesophageal imaging guidance, crosses the "
                "leak with specialized catheters and wires, and deploys the first occlusion device to "
                "seal the defect. Post-deployment angiography and echocardiography confirm device "
                "position and residual regurgitation. The patient is monitored in a post-anesthesia care "
                "unit or cardiac critical care unit and discharged per recovery and imaging results, with "
                "follow-up echo to assess durable closure."
            ),
        },
        "sites": [
            ("21", "catheterization laboratory or hybrid operating room"),
            ("22", "catheterization laboratory or hybrid operating room"),
        ],
        "modifier_guidance": [
            (None, "Standard reporting when no specific modifier applies"),
            ("62", ""),
        ],
        "gaps": [
            (
                "site_of_service",
                None,
                "The published brief prints 'Data not available in the input.' after the typical site of service: the site of service is not verified.",
            ),
            (
                "modifiers",
                None,
                "The modifier table breaks off after modifier 62: when to use 62 with 93590, and any further modifier rows, were not supplied.",
            ),
            ("coverage_criteria", "*", "Detailed payer-specific coverage criteria were not supplied."),
            ("diagnosis_coding", None, "Associated diagnostic coding (ICD-10-CM) was not supplied."),
            ("benchmark", None, "Utilization and reimbursement benchmarks were not supplied."),
            ("documentation", None, "Documentation requirements were not supplied."),
        ],
    },
    {
        "system": CodeSystem.CPT,
        "code": "93591",
        "short_descriptor": "Percutaneous Aortic Valve Occlusion, First Device",
        "category": CATEGORY,
        "is_add_on": False,
        "long_descriptor": "",
        "brief": None,
        "sites": [],
        "modifier_guidance": [],
        "gaps": [],
    },
    {
        "system": CodeSystem.CPT,
        "code": "93592",
        "short_descriptor": "Additional Occlusion Device for Percutaneous Valve Leak",
        "category": CATEGORY,
        "is_add_on": True,
        "long_descriptor": (
            "CPT code 93592 describes insertion of an additional occlusion device to close a leak "
            "around the mitral or aortic valve. The procedure is performed percutaneously via "
            "catheter access through a small incision in the skin, commonly through the femoral "
            "artery or a transcutaneous approach over the heart, and is used when a prosthetic "
            "(artificial) valve or other device requires one or more adjunctive occlusion devices to "
            "seal a residual paravalvular leak."
        ),
        "brief": {
            "title": "Additional Occlusion Device for Percutaneous Valve Leak",
            "lead": (
                "CPT code 93592 denotes the insertion of each additional occlusion device to close a leak "
                "around a mitral or aortic prosthetic valve via percutaneous catheter access. This code "
                "is used when more than one occlusion device is required to seal a residual paravalvular "
                "leak after transcatheter valve implantation or during post-implant interventions. "
                "Nationally, the code is relevant as transcatheter valve therapies expand and management "
                "of paravalvular leaks becomes more common in interventional cardiology practice."
            ),
            "key_payers_summary": (
                "Key payers discussed include Aetna, Blue Cross Blue Shield, Cigna Health, "
                "UnitedHealthcare, and Medicare."
            ),
            "reader_takeaways": (
                "Readers will find a concise review of clinical context, typical sites of service, and "
                "the service type represented by the code. The publication summarizes common billing "
                "considerations, prevalent modifier usage (provided separately), and how 93592 relates to "
                "procedural workflows in catheterization laboratories and ambulatory surgical centers."
            ),
            "audience_note": (
                "This analysis provides clinicians, billing staff, and policy stakeholders with "
                "benchmarks and policy-relevant context for claims handling and coding alignment. It "
                "highlights where 93592 fits within transcatheter valve care pathways and what "
                "operational settings commonly bill this code, aiding consistent documentation and payer "
                "communications at a national level."
            ),
            "service_type": "Percutaneous transcatheter occlusion device insertion (additional device)",
            "site_of_service_summary": (
                "Cardiac catheterization laboratory or interventional cardiology suite, often billed for "
                "procedures performed in an outpatient ambulatory surgical center or inpatient hospital "
                "setting depending on clinical context."
            ),
            "clinical_context": (
                "A 78-year-old patient with a history of surgical aortic valve replacement presents with "
                "progressive dyspnea, new-onset heart failure symptoms, and evidence of hemolytic anemia. "
                "Transesophageal echocardiography demonstrates a paravalvular leak around the prosthetic "
                "aortic valve with moderate-to-severe regurgitation and a jet localized to the sewing "
                "ring. The interventional structural heart team elects to perform a percutaneous, "
                "catheter-based valve leak occlusion procedure. Under general anesthesia in the cardiac "
                "catheterization laboratory or hybrid operating room, vascular access is obtained "
                "(typically femoral arterial and/or venous). Using fluoroscopic and echocardiographic "
                "guidance, the operator crosses the paravalvular defect and deploys an occlusion device; "
                "additional devices are often required to fully seal irregular or multiple defects. "
                "Hemodynamic and imaging confirmation of reduced regurgitation is obtained prior to "
                "sheath removal and closure. Typical monitoring includes continuous arterial pressure, "
                "transesophageal echocardiography, and postprocedural observation in a cardiac step-down "
                "or intensive care unit. This procedure is performed percutaneously and billed per "
                "additional occlusion device using 93592 for each device beyond the first."
            ),
        },
        "sites": [
            ("21", "cardiac catheterization laboratory or interventional cardiology suite"),
            ("24", "cardiac catheterization laboratory or interventional cardiology suite"),
        ],
        "modifier_guidance": [
            (
                "62",
                "Use when two surgeons work together as primary surgeons during the procedure (rare for percutaneous PVL closure).",
            ),
        ],
        "gaps": [
            (
                "modifiers",
                None,
                "Prevalent modifier usage was provided separately and is not in the input; only modifier 62 is listed.",
            ),
            ("coverage_criteria", "*", "Detailed payer-specific coverage criteria were not supplied."),
            ("diagnosis_coding", None, "Associated diagnostic coding (ICD-10-CM) was not supplied."),
            ("benchmark", None, "Utilization and reimbursement benchmarks were not supplied."),
            ("documentation", None, "Documentation requirements were not supplied."),
        ],
    },
]

# (add-on code, primary code): 93592 is reported with 93590 (mitral) or 93591 (aortic).
ADD_ON_PAIRS = [("93592", "93590"), ("93592", "93591")]
